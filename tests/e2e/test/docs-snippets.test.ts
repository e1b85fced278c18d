// Every ```js block in docs/guides/*.md runs as written (a real Node process, cwd = repo root), with
// http://127.0.0.1:8288 pointed at a mock worker serving examples/typed-inputs. Snippets are written
// under this package's node_modules so that their imports resolve to the workspace packages.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { repoRoot } from './support/paths.js'
import { runNode, stopAll } from './support/processes.js'
import { workerUrl } from './support/shared.js'

const guidesDir = join(repoRoot, 'docs', 'guides')
const snippetDir = join(repoRoot, 'tests', 'e2e', 'node_modules', '.snippets')
const DOC_URL = 'http://127.0.0.1:8288'

interface Snippet {
  id: string
  code: string
}

function snippets(): Snippet[] {
  const out: Snippet[] = []
  for (const file of readdirSync(guidesDir)
    .filter((f) => f.endsWith('.md'))
    .sort()) {
    const text = readFileSync(join(guidesDir, file), 'utf8')
    let n = 0
    for (const match of text.matchAll(/^```js\n([\s\S]*?)^```$/gm))
      out.push({ id: `${file}#${++n}`, code: match[1]! })
  }
  return out
}

/** What each snippet must print (the comments in the guides say the same). */
const expected: Record<string, RegExp[]> = {
  'npm-packages.md#1': [/prompt: STRING\?/, /progress \d+\/\d+/, /^completed image,prompt$/m],
  'npm-packages.md#2': [
    /^12 nodes$/m,
    /prompt:STRING seed:INT strength:FLOAT image:IMAGE/,
    /image:IMAGE prompt:STRING/,
  ],
  'npm-packages.md#3': [/^an owl$/m, /^true$/m],
  'mock-worker.md#1': [/^completed IMAGE$/m],
}

let url = ''
beforeAll(() => {
  url = workerUrl('echo', 'typed-inputs') // shared worker of the global setup
  mkdirSync(snippetDir, { recursive: true })
})
afterAll(stopAll)

describe('docs/guides code blocks', () => {
  const all = snippets()

  it('every snippet has an expectation, and every expectation a snippet', () => {
    expect(all.map((s) => s.id).sort()).toEqual(Object.keys(expected).sort())
  })

  it.each(all.map((s) => [s.id, s] as const))(
    '%s runs and prints what the guide says',
    async (id, snippet) => {
      const file = join(snippetDir, `${id.replace(/[^a-z0-9]+/gi, '-')}.mjs`)
      writeFileSync(file, snippet.code.split(DOC_URL).join(url))
      const result = await runNode(file, [], { timeoutMs: 30_000, cwd: repoRoot })
      expect(result.stderr).toBe('')
      expect(result.code).toBe(0)
      for (const pattern of expected[id] ?? []) expect(result.stdout).toMatch(pattern)
    },
  )
})
