// Benchmark: does following a job with live previews (SSE `?previews=1`, a PNG per step from the echo
// engine) slow a 12 MiB round trip? Same mock worker, same payload, runs interleaved; prints one
// Markdown section. Goal (issue 15): previews on costs at most 5% of the round trip.
import { spawn } from 'node:child_process'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { encodeNpy } from '@comfy-remote/protocol'
import { createRemoteClient } from '../dist/index.js'

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
const ROUNDS = 9
const MiB = 1024 * 1024

const child = spawn(
  process.execPath,
  [
    join(repo, 'apps', 'mock-worker', 'dist', 'cli.js'),
    '--workflow',
    join(repo, 'examples', 'image-invert', 'prompt.json'),
    '--port',
    '0',
    '--steps',
    '16',
    '--step-ms',
    '60',
    '--log-level',
    'silent',
  ],
  { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, COMFY_REMOTE_TOKEN: '' } },
)
let url = ''
for await (const line of createInterface({ input: child.stdout })) {
  const match = /listening on (http:\/\/\S+)/.exec(line)
  if (match) {
    url = match[1]
    break
  }
}

const h = Math.round((12 * MiB) / (1024 * 3 * 4))
const data = new Float32Array(h * 1024 * 3).map((_, i) => (i % 255) / 255)
const image = {
  type: 'IMAGE',
  encoding: 'npy',
  data: encodeNpy({ dtype: 'float32', shape: [1, h, 1024, 3], data }),
}
const client = createRemoteClient({ url })

async function roundTrip(previews) {
  let seen = 0
  const t0 = performance.now()
  const env = await client.run({ image }, previews ? { onPreview: () => seen++ } : {})
  const ms = performance.now() - t0
  if (env.status !== 'completed') throw new Error(`job ended ${env.status}`)
  return { ms, seen }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const off = []
const on = []
let previews = 0
await roundTrip(false) // warm-up
for (let i = 0; i < ROUNDS; i++) {
  off.push((await roundTrip(false)).ms)
  const r = await roundTrip(true)
  on.push(r.ms)
  previews += r.seen
}
child.kill('SIGTERM')
const a = median(off)
const b = median(on)
console.log(`### Live previews on a 12 MiB round trip (remote-client -> mock worker, echo engine)

16 steps of 60 ms per job, a 16x16 PNG preview per step (the worker forwards at most 4 per second); median of ${ROUNDS} interleaved rounds.

| follow | median round trip | previews received per job |
| --- | ---: | ---: |
| SSE, previews off | ${a.toFixed(1)} ms | 0 |
| SSE, previews on (\`onPreview\`) | ${b.toFixed(1)} ms | ${(previews / ROUNDS).toFixed(1)} |

Previews on vs off: ${((b / a - 1) * 100).toFixed(1)}% (goal: at most +5%).`)
