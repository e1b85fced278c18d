#!/usr/bin/env node
// The newcomer demo: a mock worker serves examples/image-invert, the comfy-remote CLI calls it with a
// sample image, shows live progress and writes the result to demo-out/. Run via `npm run demo`.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { readdirSync, rmSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const at = (...p) => join(root, ...p)
const workflow = at('examples', 'image-invert', 'prompt.json')
const image = at('examples', 'assets', 'sample.png')
const outDir = at('demo-out')
const say = (text) => console.log(`\n\x1b[1m== ${text}\x1b[0m`)

say('1/3 Starting the mock worker (echo engine) for examples/image-invert/prompt.json')
const worker = spawn(
  process.execPath,
  [
    at('apps', 'mock-worker', 'dist', 'cli.js'),
    '--workflow',
    workflow,
    '--port',
    '0',
    '--steps',
    '10',
    '--step-ms',
    '120',
    '--log-level',
    'warn',
  ],
  { stdio: ['ignore', 'pipe', 'inherit'] },
)
const stopWorker = () => worker.exitCode === null && worker.kill('SIGTERM')
process.on('exit', stopWorker)
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130))

const url = await new Promise((resolve, reject) => {
  let seen = ''
  const timer = setTimeout(
    () => reject(new Error('the mock worker did not print its URL within 15 s')),
    15_000,
  )
  worker.stdout.on('data', (chunk) => {
    process.stdout.write(chunk)
    seen += chunk
    const match = seen.match(/https?:\/\/127\.0\.0\.1:\d+/)
    if (match) {
      clearTimeout(timer)
      resolve(match[0])
    }
  })
  worker.once('exit', (code) => reject(new Error(`the mock worker exited early (code ${code})`)))
})
worker.stdout.resume()

say(`2/3 Calling ${url} with examples/assets/sample.png`)
rmSync(outDir, { recursive: true, force: true })
const cli = spawn(
  process.execPath,
  [
    at('packages', 'remote-client', 'dist', 'cli.js'),
    'call',
    url,
    '--input',
    `image=@${image}`,
    '--out',
    outDir,
  ],
  { stdio: 'inherit' },
)
const [code] = await once(cli, 'exit')
if (code !== 0) {
  console.error(`demo: the CLI failed (exit ${code})`)
  process.exit(1)
}

say('3/3 Result')
for (const name of readdirSync(outDir)) {
  console.log(`  ${relative(root, join(outDir, name))} (${statSync(join(outDir, name)).size} bytes)`)
}
console.log(`
The echo engine returns each Remote Input's value at the Remote Output it feeds, so the image came back
unchanged; with --engine comfyui --comfyui-url http://127.0.0.1:8188 the same worker runs the workflow
(ImageInvert) in your ComfyUI instead.

Next steps
  - Load the node pack into ComfyUI:  npm run pack:comfyui, copy apps/comfyui-extension/dist/comfy-remote
                                      into ComfyUI/custom_nodes/ (docs/guides/comfyui.md)
  - Deploy a workflow to Modal:       docs/guides/modal.md
  - Call workers from TypeScript:     docs/guides/npm-packages.md
  - Run the worker yourself:          node apps/mock-worker/dist/cli.js --workflow examples/image-invert/prompt.json
`)
stopWorker()
