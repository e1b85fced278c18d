#!/usr/bin/env node
// Benchmark of the node pack's bridge (run after `pnpm build`): prints one Markdown section.
//  1. start-up: `ping` through `node bridge/bridge.mjs` vs a bare `node -e 0` (median of N runs);
//  2. Remote API round trip of float32 images (0.75/3/12/48 MiB): files -> bridge -> mock worker (echo,
//     separate process) -> bridge -> files, through a new one-shot bridge per call and through the warm
//     persistent bridge (`--serve`, request lines on its stdin), vs a bare node:http echo of the same bytes;
//  3. peak RSS growth per persistent call of the bridge and of the mock worker, after a GC (Linux /proc).
// Env: BENCH_PING_RUNS, BENCH_RT_RUNS, BENCH_WORKER_MAX_STORED (the worker's --max-stored-bytes, default 0).
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { encodeNpy } from '@comfy-remote/protocol'
import { markMemory, median, memEnv, mib, ms, peakGrowth, procStatus, startMockWorker } from './lib.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const repo = join(root, '..', '..')
const BRIDGE = join(root, 'bridge', 'bridge.mjs')
const WORKER_CLI = join(repo, 'apps', 'mock-worker', 'dist', 'cli.js')
const PING_RUNS = Number(process.env.BENCH_PING_RUNS ?? 15)
const RT_RUNS = Number(process.env.BENCH_RT_RUNS ?? 5)
const WORKER_BUDGET = process.env.BENCH_WORKER_MAX_STORED ?? '0'
const SIZES = [
  ['0.75 MiB', 256],
  ['3 MiB', 512],
  ['12 MiB', 1024],
  ['48 MiB', 2048],
]

function run(args, input, env = {}) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now()
    const child = spawn(process.execPath, args, {
      env: { ...process.env, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let out = ''
    let err = ''
    child.stdout.on('data', (c) => (out += c))
    child.stderr.on('data', (c) => (err += c))
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000)
    child.on('close', (code) => {
      clearTimeout(timer)
      const elapsed = performance.now() - t0
      if (code !== 0)
        reject(new Error(`${args.join(' ')} exited ${code}: ${out.slice(-500)} ${err.slice(-500)}`))
      else resolve({ elapsed, out, err })
    })
    child.stdin.end(input)
  })
}

/** `node bridge.mjs --serve`: request(obj) writes one line with a fresh id and resolves with its terminal event. */
function startServe(dir) {
  const child = spawn(process.execPath, [BRIDGE, '--serve'], {
    env: { ...process.env, COMFY_REMOTE_BRIDGE_STATS: '1', ...memEnv(dir) },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  const waiting = new Map()
  let buffer = ''
  let err = ''
  let next = 0
  child.stdout.setEncoding('utf8')
  child.stdout.on('data', (chunk) => {
    buffer += chunk
    for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
      const event = JSON.parse(buffer.slice(0, nl))
      buffer = buffer.slice(nl + 1)
      const w = waiting.get(event.id)
      if (!w || (event.event !== 'result' && event.event !== 'error')) continue
      waiting.delete(event.id)
      if (event.event === 'error') w.reject(new Error(`${event.code}: ${event.message}`))
      else w.resolve(event)
    }
  })
  child.stderr.on('data', (c) => (err += c))
  const exited = new Promise((resolve) => child.on('close', resolve))
  return {
    pid: child.pid,
    request(req) {
      const id = `b${++next}`
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`serve: no answer to ${id} within 120 s`)), 120_000)
        waiting.set(id, {
          resolve: (e) => {
            clearTimeout(timer)
            resolve(e)
          },
          reject: (e) => {
            clearTimeout(timer)
            reject(e)
          },
        })
        child.stdin.write(`${JSON.stringify({ ...req, id })}\n`)
      })
    },
    /** Closes stdin; resolves with the peak RSS the bridge reported at exit. */
    async stop() {
      child.stdin.end()
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(timer)
      return JSON.parse(/bridge-stats (\{.*\})/.exec(err)?.[1] ?? '{"maxRssBytes":0}').maxRssBytes
    },
  }
}

async function startWorker(dir) {
  const prompt = {
    1: { inputs: { key: 'image' }, class_type: 'ComfyRemoteInput' },
    2: { inputs: { value: ['1', 0], key: 'image' }, class_type: 'ComfyRemoteOutput' },
  }
  const file = join(dir, 'prompt.json')
  writeFileSync(file, JSON.stringify(prompt))
  return await startMockWorker(
    WORKER_CLI,
    ['--workflow', file, '--steps', '1', '--step-ms', '0', '--max-stored-bytes', WORKER_BUDGET].concat([
      '--body-limit',
      '512mb',
      '--log-level',
      'silent',
    ]),
    memEnv(dir),
  )
}

async function startEcho() {
  const server = createServer((req, res) => {
    const chunks = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      res
        .writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length })
        .end(body)
    })
  })
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => server.close() }
}

function imageNpy(side) {
  const data = new Float32Array(side * side * 3)
  for (let i = 0; i < data.length; i++) data[i] = Math.sin(i) * 0.5 + 0.5
  return encodeNpy({ dtype: 'float32', shape: [1, side, side, 3], data })
}

function runRequest(worker, work, input) {
  return {
    op: 'run',
    url: worker.url,
    token: null,
    timeout: 120,
    pollInterval: 0.02,
    inputs: { image: { type: 'IMAGE', encoding: 'npy', data: { file: input } } },
    workDir: work,
    transport: 'auto',
  }
}

const dir = mkdtempSync(join(tmpdir(), 'cr-bench-'))
const worker = await startWorker(dir)
const echo = await startEcho()
const serve = startServe(dir)
let serveRss = 0
try {
  const ping = []
  const bare = []
  const warmPing = []
  await serve.request({ op: 'ping' })
  for (let i = 0; i < PING_RUNS; i++) {
    ping.push((await run([BRIDGE], '{"op":"ping"}\n')).elapsed)
    bare.push((await run(['-e', '0'], '')).elapsed)
    const t0 = performance.now()
    await serve.request({ op: 'ping' })
    warmPing.push(performance.now() - t0)
  }
  // Warm the persistent bridge like a ComfyUI session does after its first call (modules loaded, JIT warm).
  for (const side of [64, 256]) {
    const work = mkdtempSync(join(dir, 'warm-'))
    const input = join(work, 'in-image.npy')
    writeFileSync(input, imageNpy(side))
    await serve.request(runRequest(worker, work, input))
    rmSync(work, { recursive: true, force: true })
  }

  const rows = []
  const memRows = []
  let serveMax = 0
  let workerMax = 0
  for (const [label, side] of SIZES) {
    const npy = imageNpy(side)
    const serveGrowth = []
    const workerGrowth = []
    const serveBase = []
    const workerBase = []
    const bridgeTimes = []
    const serveTimes = []
    const echoTimes = []
    let bridgeRss = 0
    for (let i = 0; i < RT_RUNS; i++) {
      const work = mkdtempSync(join(dir, 'work-'))
      const input = join(work, 'in-image.npy')
      const request = runRequest(worker, work, input)
      // Timed like the Python side sees it: write the input file, run the bridge, read the output file.
      const t0 = performance.now()
      writeFileSync(input, npy)
      const { out, err } = await run([BRIDGE], `${JSON.stringify(request)}\n`, {
        COMFY_REMOTE_BRIDGE_STATS: '1',
      })
      const result = JSON.parse(out.trim().split('\n').at(-1))
      const back = readFileSync(result.outputs.image.data.file)
      bridgeTimes.push(performance.now() - t0)
      if (!back.equals(Buffer.from(npy))) throw new Error(`${label}: bytes differ after the round trip`)
      bridgeRss = Math.max(
        bridgeRss,
        JSON.parse(/bridge-stats (\{.*\})/.exec(err)?.[1] ?? '{"maxRssBytes":0}').maxRssBytes,
      )
      rmSync(work, { recursive: true, force: true })

      // The same through the warm persistent bridge: a request line on its stdin instead of a new process.
      const swork = mkdtempSync(join(dir, 'serve-'))
      const sinput = join(swork, 'in-image.npy')
      const sb = await markMemory(serve.pid, dir)
      const wb = await markMemory(worker.pid, dir)
      const s0 = performance.now()
      writeFileSync(sinput, npy)
      const sresult = await serve.request(runRequest(worker, swork, sinput))
      const sback = readFileSync(sresult.outputs.image.data.file)
      serveTimes.push(performance.now() - s0)
      const sg = peakGrowth(serve.pid, sb)
      const wg = peakGrowth(worker.pid, wb)
      if (sg !== null) serveGrowth.push(sg) && serveBase.push(sb)
      if (wg !== null) workerGrowth.push(wg) && workerBase.push(wb)
      serveMax = Math.max(serveMax, procStatus(serve.pid, 'VmHWM') ?? 0)
      workerMax = Math.max(workerMax, procStatus(worker.pid, 'VmHWM') ?? 0)
      if (!sback.equals(Buffer.from(npy)))
        throw new Error(`${label}: bytes differ after the persistent round trip`)
      rmSync(swork, { recursive: true, force: true })

      const e0 = performance.now()
      const res = await fetch(echo.url, { method: 'POST', body: npy })
      const echoed = new Uint8Array(await res.arrayBuffer())
      echoTimes.push(performance.now() - e0)
      if (echoed.length !== npy.length) throw new Error('echo lost bytes')
    }
    // One-shot calls after the last mark raised the worker's peak too: read it before the next mark.
    workerMax = Math.max(workerMax, procStatus(worker.pid, 'VmHWM') ?? 0)
    const x1 = (g) => `${(g / npy.byteLength).toFixed(1)}x`
    const x = (gs) =>
      gs.length === 0 ? 'n/a' : `${x1(median(gs))} / ${x1(Math.max(...gs))} (${mib(Math.max(...gs))})`
    const after = (bases) => (bases.length === 0 ? 'n/a' : mib(median(bases)))
    memRows.push(
      `| ${label} | ${after(serveBase)} | ${x(serveGrowth)} | ${after(workerBase)} | ${x(workerGrowth)} |`,
    )
    const b = median(bridgeTimes)
    const sv = median(serveTimes)
    const e = median(echoTimes)
    rows.push(
      `| ${label} | ${ms(b)} | ${ms(sv)} | ${ms(e)} | ${(b / e).toFixed(1)}x | ${(sv / e).toFixed(1)}x | ${mib(bridgeRss)} |`,
    )
  }
  serveRss = await serve.stop()

  const p = median(ping)
  const n = median(bare)
  console.log(`### comfyui-extension: bridge start-up and Remote API round trip

Start-up (\`{"op":"ping"}\` through \`node bridge/bridge.mjs\`, median of ${PING_RUNS}; goal < 150 ms):

| measure | median |
| --- | --- |
| bridge \`ping\` (process start to exit) | ${ms(p)} |
| bare \`node -e 0\` | ${ms(n)} |
| bridge overhead over bare node | ${ms(p - n)} (${(p / n).toFixed(2)}x) |
| \`ping\` through the warm persistent bridge (\`--serve\`, stdin line to answer) | ${ms(median(warmPing))} |

Round trip of one float32 IMAGE \`[1,S,S,3]\` (median of ${RT_RUNS}): write the input file, run the request,
submit to the mock worker (echo engine, own process, transport auto = multipart), follow the job, write the
output file, read it back. One-shot: a new \`node bridge.mjs\` per call (COMFY_REMOTE_BRIDGE_MODE=oneshot).
Persistent: the request as one line on the stdin of a warm \`bridge.mjs --serve\` (the default). Both vs a
bare \`node:http\` echo of the same bytes (fetch POST + read), same run; goal: persistent <= 2x at 12 MiB.

| image | one-shot bridge | persistent bridge | bare HTTP echo | one-shot ratio | persistent ratio | one-shot peak RSS |
| --- | --- | --- | --- | --- | --- | --- |
${rows.join('\n')}

Memory per call: before each persistent-bridge call, the persistent bridge and the mock worker run a full
GC (\`--expose-gc\`, bench only) and reset their peak-RSS mark; "growth" = peak RSS during that one call minus
the RSS after the GC, in multiples of the payload: median / largest of the ${RT_RUNS} calls (largest in MiB);
goal <= 4x. Below ~5 MiB the payload-independent part (V8 young generation, buffers) dominates the ratio. The mock worker runs with \`--max-stored-bytes ${WORKER_BUDGET}\`${WORKER_BUDGET === '0' ? ' (it keeps only the newest finished result, as a bridge reads each result at once)' : ''}.

| image | bridge RSS after GC | persistent bridge peak growth per call | worker RSS after GC | mock worker peak growth per call |
| --- | --- | --- | --- | --- |
${memRows.join('\n')}

Peak RSS over the whole run: persistent bridge ${mib(Math.max(serveRss, serveMax))}, mock worker ${workerMax ? mib(workerMax) : 'n/a (no /proc)'}.`)
} finally {
  if (!serveRss) await serve.stop().catch(() => {})
  worker.stop()
  echo.close()
  rmSync(dir, { recursive: true, force: true })
}
