// Packs every publishable package into dist-npm/ as the registry would serve it (pnpm replaces
// `workspace:*` and `catalog:` with real versions), so you can install them in your own project
// before they are published: npm install /path/to/comfy-remote/dist-npm/*.tgz
import { spawnSync } from 'node:child_process'
import { mkdirSync, readdirSync, rmSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const out = join(root, 'dist-npm')
const packages = [
  'packages/protocol',
  'packages/io-helpers',
  'packages/remote-client',
  'packages/modal-scaffolder',
  'apps/mock-worker',
]

rmSync(out, { recursive: true, force: true })
mkdirSync(out, { recursive: true })
for (const dir of packages) {
  const result = spawnSync('npx', ['-y', 'pnpm@10.34.8', 'pack', '--pack-destination', out], {
    cwd: join(root, dir),
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  if (result.status !== 0) {
    console.error(`pack-npm: packing ${dir} failed (exit ${result.status}); run npm run bootstrap first`)
    process.exit(1)
  }
}
const tarballs = readdirSync(out)
  .filter((name) => name.endsWith('.tgz'))
  .sort()
console.log(`pack-npm: ${tarballs.length} tarballs in ${out}`)
for (const name of tarballs) console.log(`  ${name}`)
console.log(`\nIn your project (Node >= 20.19):\n  npm install ${join(out, '*.tgz')}`)
