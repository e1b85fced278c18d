// Runs the repository's Python tests (pytest):
// - the node pack and the generated Modal app with the python3 on PATH (numpy + pytest);
// - under Debian's /usr/bin/python3, when its packages are installed (.ci/run installs them):
//   the torch tests of the node pack (python3-torch) and the generated Modal app served by FastAPI
//   (python3-fastapi, python3-httpx, python3-multipart, python3-uvicorn, python3-websocket).
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'

const debian = '/usr/bin/python3'
const suites = [
  {
    python: process.env.PYTHON ?? 'python3',
    args: ['apps/comfyui-extension/tests', 'packages/modal-scaffolder/test/python'],
    needs: 'numpy, pytest',
  },
  { python: debian, args: ['-m', 'torch', 'apps/comfyui-extension/tests'], needs: 'torch, pytest' },
  { python: debian, args: ['packages/modal-scaffolder/test/python'], needs: 'fastapi, httpx, pytest' },
]

const importable = (python, modules) =>
  existsSync(python) || python === 'python3' || python === process.env.PYTHON
    ? spawnSync(python, ['-c', `import ${modules}`], { stdio: 'ignore' }).status === 0
    : false

let failed = 0
for (const { python, args, needs } of suites) {
  if (!importable(python, needs)) {
    console.log(`test-py: skipped ${args.join(' ')} under ${python}: it cannot import ${needs}`)
    continue
  }
  console.log(`test-py: ${python} -m pytest -q ${args.join(' ')}`)
  const r = spawnSync(python, ['-m', 'pytest', '-q', '-p', 'no:cacheprovider', ...args], { stdio: 'inherit' })
  // pytest exit 5 = nothing collected for that selection
  if (r.status !== 0 && r.status !== 5) failed++
}
if (failed) console.log(`test-py: ${failed} pytest run(s) failed`)
process.exit(failed ? 1 : 0)
