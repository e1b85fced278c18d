// Shell blocks of the docs, split into the commands a reader would type.
//
// A fenced ```sh block is run by the docs test unless an HTML comment right above it says
// `<!-- docs-test: skip (why) -->`. Inside a block: `\` continues a line, `#` comments are dropped,
// `alias name='cmd'` is remembered and expanded, and the one-time setup commands of the README
// (`npm run bootstrap`, the pnpm install/build pair) are taken as done.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { repoRoot } from './paths.js'

export interface DocBlock {
  /** `docs/guides/mock-worker.md#2` */
  id: string
  file: string
  /** Why it is not run, when the doc says so. */
  skip?: string
  commands: string[]
}

/** Markdown files whose shell blocks are documentation users follow. */
export const DOC_FILES = [
  'README.md',
  'examples/README.md',
  'docs/guides/app-mode.md',
  'docs/guides/comfyui.md',
  'docs/guides/mock-worker.md',
  'docs/guides/modal.md',
  'docs/guides/npm-packages.md',
  'packages/protocol/README.md',
  'packages/io-helpers/README.md',
  'packages/remote-client/README.md',
  'packages/modal-scaffolder/README.md',
  'apps/mock-worker/README.md',
  'apps/comfyui-extension/README.md',
]

const SETUP = [
  /^npm run bootstrap$/,
  /^npx -y pnpm@10\.34\.8 install( && npx -y pnpm@10\.34\.8 build)?$/,
  /^npx -y pnpm@10\.34\.8 build$/,
]

/** True for the one-time setup commands the test environment has already run. */
export function isSetup(command: string): boolean {
  return SETUP.some((re) => re.test(command))
}

/** Splits a block's text into commands (continuations joined, comments and blank lines dropped). */
export function splitCommands(text: string): string[] {
  const commands: string[] = []
  let current = ''
  for (const raw of text.split('\n')) {
    const line = current ? raw.trim() : raw.trim()
    if (!current && (line === '' || line.startsWith('#'))) continue
    const withoutComment = stripComment(line)
    if (withoutComment.endsWith('\\')) {
      current += `${withoutComment.slice(0, -1).trimEnd()} `
      continue
    }
    const command = (current + withoutComment).trim()
    current = ''
    if (command) commands.push(command)
  }
  if (current.trim()) commands.push(current.trim())
  return commands
}

/** Drops a trailing `# comment` that is outside quotes. */
function stripComment(line: string): string {
  let quote: string | undefined
  for (let i = 0; i < line.length; i++) {
    const c = line[i]
    if (quote) {
      if (c === quote) quote = undefined
    } else if (c === '"' || c === "'") quote = c
    else if (c === '#' && (i === 0 || /\s/.test(line[i - 1] ?? ''))) return line.slice(0, i).trimEnd()
  }
  return line
}

export function docBlocks(file: string): DocBlock[] {
  const text = readFileSync(join(repoRoot, file), 'utf8')
  const blocks: DocBlock[] = []
  let n = 0
  for (const match of text.matchAll(
    /(?:<!--\s*docs-test:\s*skip\s*\(([^)]*)\)\s*-->\s*\n)?^```(?:sh|bash|shell)\n([\s\S]*?)^```$/gm,
  )) {
    const block: DocBlock = { id: `${file}#${++n}`, file, commands: splitCommands(match[2] ?? '') }
    if (match[1] !== undefined) block.skip = match[1]
    blocks.push(block)
  }
  return blocks
}
