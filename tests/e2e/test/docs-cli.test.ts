// Every CLI answers --help at every level (exit 0) and lists every flag it accepts; every flag it lists
// is documented in its guide. Accepted flags are read from the CLIs' parseArgs option tables in the
// source, so a new flag that is not in --help or in the docs fails here.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { repoRoot } from './support/paths.js'
import { bins, runNode, stopAll } from './support/processes.js'

afterAll(stopAll)

interface Cli {
  name: string
  script: string
  /** Source files holding its parseArgs option tables. */
  sources: string[]
  /** Each argv whose output is a help text (all must exit 0). */
  helps: string[][]
  /** Docs that must mention every flag of the help. */
  docs: string[]
}

const CLIS: Cli[] = [
  {
    name: 'comfy-remote',
    script: bins.remoteClient,
    sources: ['packages/remote-client/src/cli/main.ts'],
    helps: [['--help'], ['-h'], ['call', '--help'], ['schema', '--help']],
    docs: ['packages/remote-client/README.md', 'docs/guides/npm-packages.md'],
  },
  {
    name: 'comfy-remote-mock',
    script: bins.mockWorker,
    sources: ['apps/mock-worker/src/cli.ts'],
    helps: [['--help'], ['-h']],
    docs: ['apps/mock-worker/README.md', 'docs/guides/mock-worker.md'],
  },
  {
    name: 'comfy-remote-modal',
    script: bins.modal,
    sources: ['packages/modal-scaffolder/src/cli.ts'],
    helps: [
      ['--help'],
      ['scaffold', '--help'],
      ['serve', '--help'],
      ['deploy', '--help'],
      ['stop', '--help'],
    ],
    docs: ['packages/modal-scaffolder/README.md', 'docs/guides/modal.md'],
  },
]

/** Long flags (and short ones as `-x`) declared in parseArgs option tables: `name: { type: ...` lines. */
function acceptedFlags(sources: string[]): string[] {
  const flags = new Set<string>()
  for (const source of sources) {
    const text = readFileSync(join(repoRoot, source), 'utf8')
    for (const match of text.matchAll(
      /^\s*'?([a-z][a-z0-9-]*)'?:\s*\{\s*type:\s*'(?:string|boolean)'([^}]*)\}/gm,
    )) {
      flags.add(`--${match[1]}`)
      const short = /short:\s*'(\w)'/.exec(match[2] ?? '')?.[1]
      if (short) flags.add(`-${short}`)
    }
  }
  return [...flags].sort()
}

const helpFlags = (text: string): string[] => [...new Set(text.match(/(?<![\w-])--[a-z][a-z0-9-]*/g) ?? [])]

describe.each(CLIS)('$name', (cli) => {
  const texts: string[] = []

  it.each(cli.helps.map((argv) => [argv.join(' '), argv] as const))(
    '`%s` prints help and exits 0',
    async (_, argv) => {
      const result = await runNode(cli.script, argv, { timeoutMs: 20_000 })
      expect(result.code, result.stderr).toBe(0)
      expect(result.stdout).toMatch(/usage/i)
      texts.push(result.stdout)
    },
  )

  it('--help lists every flag the CLI accepts', () => {
    const accepted = acceptedFlags(cli.sources)
    expect(accepted.length).toBeGreaterThan(3) // the table reader found the options
    const help = texts.join('\n')
    const missing = accepted.filter((flag) => !new RegExp(`(?<![\\w-])${flag}(?![\\w-])`).test(help))
    expect(missing, `add these to ${cli.name}'s --help`).toEqual([])
  })

  it('its docs mention every flag of its --help', () => {
    const docs = cli.docs.map((doc) => readFileSync(join(repoRoot, doc), 'utf8')).join('\n')
    const missing = helpFlags(texts.join('\n')).filter(
      (flag) => flag !== '--help' && !new RegExp(`(?<![\\w-])${flag}(?![\\w-])`).test(docs),
    )
    expect(missing, `document these in ${cli.docs.join(' or ')}`).toEqual([])
  })
})
