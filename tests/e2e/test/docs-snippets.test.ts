// Every ```js block in docs/guides/*.md runs as written (a real Node process, cwd = repo root), with
// http://127.0.0.1:8288 pointed at a mock worker serving examples/typed-inputs. Snippets are saved at
// the repository root (in the ignored .tmp/ folder), as the guide tells readers to, so their imports
// resolve as a reader's would: through the root package's links to the workspace packages.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DOC_URL, snippetExpectations as expected, snippets } from './support/doc-snippets.js'
import { repoRoot } from './support/paths.js'
import { runNode, stopAll } from './support/processes.js'
import { workerUrl } from './support/shared.js'

const snippetDir = join(repoRoot, '.tmp', 'doc-snippets')

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
