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

/** Median wall time (ms) of fn over runs, after one warm-up. */
function time(fn, runs) {
  fn()
  const out = []
  for (let i = 0; i < runs; i++) {
    const t = performance.now()
    fn()
    out.push(performance.now() - t)
  }
  return median(out)
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

  const copyMs = time(() => Buffer.from(src), runs)
  const copyMem = extraMemory(() => Buffer.from(src))

  // JSON + base64
  const text = serializeJson(envelopeOf())
  const jsonEnc = time(() => serializeJson(envelopeOf()), runs)
  const jsonDec = time(() => decodeValue(parseEnvelope(text).result), runs)
  const b64 = JSON.parse(text).result.data
  const baseline = time(() => {
    JSON.parse(text)
    Buffer.from(b64, 'base64')
  }, runs)
  const jsonDecMem = extraMemory(() => decodeValue(parseEnvelope(text).result))
  const jsonEncMem = extraMemory(() => serializeJson(envelopeOf()))

  // multipart, joined body and streamed chunks
  const mp = encodeMultipart(envelopeOf())
  const mpEnc = time(() => encodeMultipart(envelopeOf()), runs)
  const mpChunks = time(() => encodeMultipartChunks(envelopeOf()), runs)
  const mpDec = time(() => decodeValue(parseEnvelope(decodeMultipart(mp.body, mp.contentType)).result), runs)
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

Node ${process.version}, ${process.platform}/${process.arch}; median of 5-15 runs. Encode = encodeValue (npy) + envelope + serialize;
decode = parse + parseEnvelope + decodeValue back to the array. "x copy" = (encode + decode) / one Buffer copy of the
payload in the same run. "extra mem" = ArrayBuffer + heap growth held by the result, in payload sizes (encode / decode).
Goals: multipart within 3x of a copy; JSON decode no slower than JSON.parse + one base64 decode (ratio <= ~1); at most one
extra copy of the payload.

| size | path | encode ms | encode MiB/s | decode ms | decode MiB/s | x copy | extra mem (enc / dec) | note |
| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |
${rows.join('\n')}`)
