#!/usr/bin/env node
// Runs every workspace package's `bench` script (each prints one Markdown section) and writes
// docs/BENCHMARKS.md with the machine and the date. Run via `npx -y pnpm@10.34.8 bench`.
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { cpus, platform, release, totalmem } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const dirs = ['packages', 'apps'].flatMap((group) =>
  readdirSync(join(root, group)).map((name) => join(root, group, name)),
)
const sections = []
for (const dir of dirs) {
  const pkgFile = join(dir, 'package.json')
  if (!existsSync(pkgFile)) continue
  const pkg = JSON.parse(readFileSync(pkgFile, 'utf8'))
  if (!pkg.scripts?.bench) continue
  console.error(`bench: ${pkg.name} ...`)
  const r = spawnSync('npm', ['run', '-s', 'bench'], {
    cwd: dir,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 3_600_000, // the real-path bench moves 1 GiB each way
  })
  sections.push(
    r.status === 0 ? r.stdout.trim() : `### ${pkg.name}\n\nThe benchmark failed (exit ${r.status}).`,
  )
}
const cpu = cpus()[0]?.model ?? 'unknown cpu'
const header = `# Benchmarks

Written by \`pnpm bench\` (scripts/bench.mjs); every ratio is measured within one run on one machine.

- Date: ${new Date().toISOString()}
- Machine: ${cpu}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, ${platform()} ${release()}
- Node ${process.version}
`
const goals = readFileSync(join(root, 'scripts', 'bench-goals.md'), 'utf8').trim()
writeFileSync(join(root, 'docs', 'BENCHMARKS.md'), `${header}\n${sections.join('\n\n')}\n\n${goals}\n`)
console.log(`bench: wrote docs/BENCHMARKS.md (${sections.length} sections)`)
