import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'

/**
 * A fake `modal` executable: appends {argv, cwd, env subset} as one JSON line to calls.jsonl and prints
 * realistic `modal deploy` output (the URL wrapped over two lines, as the CLI does at a narrow width).
 * FAKE_MODAL_FAIL=1 makes it fail like an expired token.
 */
const SCRIPT = `#!/usr/bin/env node
const fs = require('node:fs')
const path = require('node:path')
const log = path.join(__dirname, 'calls.jsonl')
const env = {}
for (const k of ['MODAL_IGNORE_CACHE', 'COLUMNS', 'NO_COLOR']) if (process.env[k] !== undefined) env[k] = process.env[k]
fs.appendFileSync(log, JSON.stringify({ argv: process.argv.slice(2), cwd: process.cwd(), env }) + '\\n')
if (process.env.FAKE_MODAL_FAIL) {
  console.error('Token missing. Could not authenticate client. Run \\'modal token new\\'.')
  process.exit(1)
}
const [cmd, sub, name] = process.argv.slice(2)
if (cmd === 'deploy') {
  console.log('\\u2713 Initialized. View run at https://modal.com/apps/me/main/ap-123')
  console.log('\\u2713 Created objects.')
  console.log('\\u251c\\u2500\\u2500 \\ud83d\\udd28 Created mount ' + path.join(process.cwd(), sub))
  console.log('\\u2514\\u2500\\u2500 \\ud83d\\udd28 Created web function web => https://me--bridge-test-we')
  console.log('    b.modal.run')
  console.log('\\u2713 App deployed in 2.1s! \\ud83c\\udf89')
  console.log('')
  console.log('View Deployment: https://modal.com/apps/me/main/deployed/bridge-test')
} else if (cmd === 'app' && sub === 'stop') {
  console.log('Stopped app ' + name)
} else {
  console.error('unexpected fake modal call')
  process.exit(2)
}
`

export interface FakeModal {
  dir: string
  /** PATH with the fake first. */
  path: string
  calls(): { argv: string[]; cwd: string; env: Record<string, string> }[]
  cleanup(): void
}

export function createFakeModal(): FakeModal {
  const dir = mkdtempSync(join(tmpdir(), 'cr-fake-modal-'))
  const bin = join(dir, 'modal')
  writeFileSync(bin, SCRIPT)
  chmodSync(bin, 0o755)
  return {
    dir,
    path: `${dir}${delimiter}${process.env.PATH ?? ''}`,
    calls() {
      try {
        return readFileSync(join(dir, 'calls.jsonl'), 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l))
      } catch {
        return []
      }
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  }
}
