// The ```js blocks of docs/guides/*.md and what each must print (the guides' comments say the same).
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { repoRoot } from './paths.js'

export interface Snippet {
  id: string
  code: string
}

/** The URL the guides call; tests replace it with a real worker's. */
export const DOC_URL = 'http://127.0.0.1:8288'

export function snippets(): Snippet[] {
  const guidesDir = join(repoRoot, 'docs', 'guides')
  const out: Snippet[] = []
  for (const file of readdirSync(guidesDir)
    .filter((f) => f.endsWith('.md'))
    .sort()) {
    const text = readFileSync(join(guidesDir, file), 'utf8')
    let n = 0
    for (const match of text.matchAll(/^```js\n([\s\S]*?)^```$/gm))
      out.push({ id: `${file}#${++n}`, code: match[1] as string })
  }
  return out
}

export const snippetExpectations: Record<string, RegExp[]> = {
  'npm-packages.md#1': [/prompt: STRING\?/, /progress \d+\/\d+/, /^completed image,prompt$/m],
  'npm-packages.md#2': [
    /^12 nodes$/m,
    /prompt:STRING seed:INT strength:FLOAT image:IMAGE/,
    /image:IMAGE prompt:STRING/,
  ],
  'npm-packages.md#3': [/^an owl$/m, /^true$/m],
  'mock-worker.md#1': [/^completed IMAGE$/m],
}
