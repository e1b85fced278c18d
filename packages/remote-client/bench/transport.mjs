// Benchmark: one remote-client round trip (submit with ?wait=, result back) of a float32 IMAGE as
// JSON+base64 and as multipart, next to a raw-bytes POST echo of the same payload, in the same run.
// Prints one Markdown section. Run after `pnpm build`: node --expose-gc bench/transport.mjs
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { encodeNpy } from '@comfy-remote/protocol'
import { createRemoteClient } from '../dist/index.js'

const SIZES_MIB = [12, 48]
const ROUNDS = 3
const MiB = 1024 * 1024

const child = spawn(process.execPath, [new URL('./echo-worker.mjs', import.meta.url).pathname], {
  stdio: ['ignore', 'pipe', 'inherit'],
})
const [line] = await once(createInterface({ input: child.stdout }), 'line')
const url = `http://127.0.0.1:${JSON.parse(line).port}`

function image(mib) {
  const w = 1024
  const h = Math.round((mib * MiB) / (w * 3 * 4))
  const data = new Float32Array(h * w * 3)
  for (let i = 0; i < data.length; i++) data[i] = (i % 255) / 255
  return encodeNpy({ dtype: 'float32', shape: [1, h, w, 3], data })
}

/** Runs fn; returns ms and the memory still held with its result alive (after a GC), above the start. */
async function measure(fn) {
  globalThis.gc?.()
  const before = process.memoryUsage()
  const t0 = performance.now()
  const result = await fn()
  const ms = performance.now() - t0
  globalThis.gc?.()
  const after = process.memoryUsage()
  const held = after.heapUsed + after.external - (before.heapUsed + before.external)
  return { ms, held, result }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const rows = []
try {
  for (const mib of SIZES_MIB) {
    const bytes = image(mib)
    const size = bytes.byteLength
    const cases = {
      'raw bytes (fetch POST echo)': async () => {
        const res = await fetch(`${url}/raw`, { method: 'POST', body: bytes })
        const back = new Uint8Array(await res.arrayBuffer())
        if (back.byteLength !== size) throw new Error('raw echo size mismatch')
        return back
      },
      multipart: async () => {
        const env = await createRemoteClient({ url, transport: 'multipart', follow: 'poll' }).run(
          { image: { type: 'IMAGE', encoding: 'npy', data: bytes } },
          { wait: 60 },
        )
        if (env.outputs?.image?.data?.byteLength !== size) throw new Error('multipart result size mismatch')
        return env
      },
      'JSON + base64': async () => {
        const env = await createRemoteClient({ url, transport: 'json', follow: 'poll' }).run(
          { image: { type: 'IMAGE', encoding: 'npy', data: bytes } },
          { wait: 60 },
        )
        if (typeof env.outputs?.image?.data !== 'string') throw new Error('json result missing')
        return env
      },
    }
    const results = {}
    for (const [name, fn] of Object.entries(cases)) {
      await fn() // warm-up
      const times = []
      const held = []
      for (let r = 0; r < ROUNDS; r++) {
        const m = await measure(fn)
        times.push(m.ms)
        held.push(m.held)
      }
      results[name] = { ms: median(times), held: median(held) }
    }
    const raw = results['raw bytes (fetch POST echo)'].ms
    for (const [name, { ms, held }] of Object.entries(results)) {
      rows.push(
        `| ${(size / MiB).toFixed(1)} MiB | ${name} | ${ms.toFixed(1)} | ${((2 * size) / MiB / (ms / 1000)).toFixed(0)} | ${(ms / raw).toFixed(2)}x | ${(held / size).toFixed(2)}x |`,
      )
    }
  }
} finally {
  child.kill('SIGTERM')
}

console.log(`### remote-client transport (one round trip: submit with ?wait=, result back)

Float32 IMAGE sent to a local echo worker (separate process, 127.0.0.1) and received back; median of ${ROUNDS} rounds after a warm-up, Node ${process.version}. "vs raw" compares with a plain fetch POST echo of the same bytes in the same run; "result memory" is what the client still holds with the result alive (heap + external after a GC, minus before), in multiples of the payload: 1x = the received bytes only.

| payload | transport | ms | MiB/s (both ways) | vs raw | result memory |
| --- | --- | --- | --- | --- | --- |
${rows.join('\n')}
`)
