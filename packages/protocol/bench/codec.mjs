// Codec benchmark: a float32 IMAGE in a completed envelope, JSON+base64 vs multipart, against a
// plain Buffer copy of the same bytes measured in the same run. Prints one Markdown section.
// Run after build: node bench/codec.mjs   (SIZES=3,12 to shorten)
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import {
  decodeMultipart,
  decodeValue,
  encodeMultipart,
  encodeMultipartChunks,
  encodeValue,
  parseEnvelope,
  serializeJson,
  toWireEnvelope,
} from '../dist/index.js'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc')
const MiB = 1024 * 1024
const sizes = (process.env.SIZES ?? '3,12,48').split(',').map(Number)

function median(xs) {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]
}

/** Wall time (ms) of one call, after a full GC that is not timed. */
function once(fn) {
  gc()
  const t = performance.now()
  fn()
  return performance.now() - t
}

/**
 * Interleaved rounds: every round times each op once, so load from other processes hits all ops
 * alike. Returns the median time of each op (ms), after one warm-up round.
 */
function timeAll(ops, rounds) {
  const samples = Object.fromEntries(Object.keys(ops).map((k) => [k, []]))
  for (let r = -1; r < rounds; r++) {
    for (const [name, fn] of Object.entries(ops)) {
      const ms = once(fn)
      if (r >= 0) samples[name].push(ms)
    }
  }
  return Object.fromEntries(Object.entries(samples).map(([k, xs]) => [k, median(xs)]))
}

/** Extra ArrayBuffer + heap memory (bytes) held by what fn returns, measured after a full GC. */
function extraMemory(fn) {
  gc()
  gc()
  const before = process.memoryUsage()
  const kept = fn()
  const after = process.memoryUsage()
  const extra = after.arrayBuffers - before.arrayBuffers + Math.max(0, after.heapUsed - before.heapUsed)
  if (kept === undefined) throw new Error('keep the result alive')
  return extra
}

function image(mib) {
  const w = 1024
  const h = Math.round((mib * MiB) / (w * 3 * 4))
  const data = new Float32Array(h * w * 3)
  for (let i = 0; i < data.length; i++) data[i] = (i % 997) / 997
  return { dtype: 'float32', shape: [1, h, w, 3], data }
}

const rows = []
for (const mib of sizes) {
  const img = image(mib)
  const payload = img.data.byteLength
  const runs = mib >= 48 ? 5 : mib >= 12 ? 8 : 15
  const src = new Uint8Array(img.data.buffer)
  const envelopeOf = () =>
    toWireEnvelope({ status: 'completed', jobId: 'j', result: encodeValue(img, { type: 'IMAGE' }) })

  const text = serializeJson(envelopeOf())
  const b64 = JSON.parse(text).result.data
  const mp = encodeMultipart(envelopeOf())
  const t = timeAll(
    {
      copy: () => Buffer.from(src),
      jsonEnc: () => serializeJson(envelopeOf()),
      jsonDec: () => decodeValue(parseEnvelope(text).result),
      baseline: () => {
        JSON.parse(text)
        Buffer.from(b64, 'base64')
      },
      mpEnc: () => encodeMultipart(envelopeOf()),
      mpChunks: () => encodeMultipartChunks(envelopeOf()),
      mpDec: () => decodeValue(parseEnvelope(decodeMultipart(mp.body, mp.contentType)).result),
    },
    runs,
  )
  const { copy: copyMs, jsonEnc, jsonDec, baseline, mpEnc, mpChunks, mpDec } = t
  const copyMem = extraMemory(() => Buffer.from(src))
  const jsonDecMem = extraMemory(() => decodeValue(parseEnvelope(text).result))
  const jsonEncMem = extraMemory(() => serializeJson(envelopeOf()))
  const mpDecMem = extraMemory(() =>
    decodeValue(parseEnvelope(decodeMultipart(mp.body, mp.contentType)).result),
  )
  const mpEncMem = extraMemory(() => encodeMultipart(envelopeOf()))
  const mpChunksMem = extraMemory(() => encodeMultipartChunks(envelopeOf()))

  const rate = (ms) => (ms > 0 ? ((payload / MiB / ms) * 1000).toFixed(0) : 'inf')
  const copies = (bytes) => (bytes / payload).toFixed(2)
  const ratio = (ms) => (ms / copyMs).toFixed(1)
  const label = `${mib} MiB`
  rows.push(
    `| ${label} | Buffer copy | ${copyMs.toFixed(2)} | ${rate(copyMs)} | - | - | 1.0 | ${copies(copyMem)} | - |`,
  )
  rows.push(
    `| ${label} | JSON+base64 | ${jsonEnc.toFixed(2)} | ${rate(jsonEnc)} | ${jsonDec.toFixed(2)} | ${rate(jsonDec)} | ${ratio(jsonEnc + jsonDec)} | ${copies(jsonEncMem)} / ${copies(jsonDecMem)} | decode vs JSON.parse+base64: ${(jsonDec / baseline).toFixed(2)}x |`,
  )
  rows.push(
    `| ${label} | multipart (joined body) | ${mpEnc.toFixed(2)} | ${rate(mpEnc)} | ${mpDec.toFixed(2)} | ${rate(mpDec)} | ${ratio(mpEnc + mpDec)} | ${copies(mpEncMem)} / ${copies(mpDecMem)} | |`,
  )
  rows.push(
    `| ${label} | multipart (chunks) | ${mpChunks.toFixed(2)} | ${rate(mpChunks)} | ${mpDec.toFixed(2)} | ${rate(mpDec)} | ${ratio(mpChunks + mpDec)} | ${copies(mpChunksMem)} / ${copies(mpDecMem)} | |`,
  )
}

console.log(`### @comfy-remote/protocol codec (float32 IMAGE in a completed envelope)

Node ${process.version}, ${process.platform}/${process.arch}; median of 5-15 interleaved rounds, a full GC before each timed call. Encode = encodeValue (npy) + envelope + serialize;
decode = parse + parseEnvelope + decodeValue back to the array. "x copy" = (encode + decode) / one Buffer copy of the
payload in the same run. "extra mem" = ArrayBuffer + heap growth held by the result, in payload sizes (encode / decode).
Goals: multipart within 3x of a copy; JSON decode no slower than JSON.parse + one base64 decode (ratio <= ~1); at most one
extra copy of the payload.

| size | path | encode ms | encode MiB/s | decode ms | decode MiB/s | x copy | extra mem (enc / dec) | note |
| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |
${rows.join('\n')}`)
