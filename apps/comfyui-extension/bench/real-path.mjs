#!/usr/bin/env node
// Benchmark of the real Remote API path (run after `pnpm build`): prints one Markdown section.
// A Python Remote API call (comfy_remote.remote_call.run_remote, the code the node runs, in
// bench/real_path_driver.py) -> persistent bridge -> mock worker --engine comfyui -> ComfyUI running
// Remote Input -> ImageInvert -> Remote Output -> back, for float32 IMAGEs of 12/48/192 MiB, against:
//  - the local node (ImageInvert on the same array in the same Python process): overhead = remote - local;
//  - relaying the same bytes over the same number of plain binary HTTP hops (node:http, loopback, each
//    hop stored then forwarded like the real path: client -> worker -> ComfyUI -> worker -> client);
//  - peak RSS growth of the bridge and of the worker per job (after a GC, Linux /proc);
//  - one 1 GiB in + 1 GiB out job.
// ComfyUI: COMFY_REMOTE_BENCH_COMFYUI_URL (a real ComfyUI with the node pack installed), else the
// project's fake ComfyUI (packages/io-helpers testing server). Env: BENCH_REAL_SIZES (MiB list,
// default 12,48,192), BENCH_REAL_RUNS (default 3), BENCH_REAL_GIB (0 skips the 1 GiB job), PYTHON.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, request as httpRequest } from 'node:http'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { markMemory, median, memEnv, mib, ms, peakGrowth, startMockWorker } from './lib.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const repo = join(root, '..', '..')
const WORKER_CLI = join(repo, 'apps', 'mock-worker', 'dist', 'cli.js')
const FAKE_SERVER = join(repo, 'packages', 'io-helpers', 'dist', 'testing', 'server.js')
const DRIVER = join(root, 'bench', 'real_path_driver.py')
const PYTHON = process.env.PYTHON ?? 'python3'
const REAL_URL = process.env.COMFY_REMOTE_BENCH_COMFYUI_URL
const RUNS = Number(process.env.BENCH_REAL_RUNS ?? 3)
const GIB = process.env.BENCH_REAL_GIB !== '0'
const SIZES = (process.env.BENCH_REAL_SIZES ?? '12,48,192').split(',').map(Number)
const HOPS = 4

/** Side S of a float32 [1,S,S,3] image of about `mebibytes` MiB. */
const sideFor = (mebibytes) => Math.round(Math.sqrt((mebibytes * 2 ** 20) / 12))
const bytesOf = (side) => side * side * 3 * 4 + 128

/**
 * The fake ComfyUI in its own process, started like a real one on this machine: --max-upload-size 4096
 * (MB) and a real temp folder, so the worker links files there as it does with a local real ComfyUI.
 */
async function startFakeComfy(tempDir) {
  const script = `const { createFakeComfyUI } = await import(${JSON.stringify(pathToFileURL(FAKE_SERVER).href)})
const fake = await createFakeComfyUI({ port: 0, host: '127.0.0.1', maxUploadSizeMb: 4096, tempDir: ${JSON.stringify(tempDir)} })
console.log(JSON.stringify({ url: fake.url }))`
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const lines = createInterface({ input: child.stdout })
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('fake ComfyUI did not start within 20 s')), 20_000)
    lines.once('line', (line) => {
      clearTimeout(timer)
      resolve(JSON.parse(line).url)
    })
  })
  return { url, pid: child.pid, stop: () => child.kill('SIGTERM') }
}

function startDriver(env) {
  const child = spawn(PYTHON, [DRIVER], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] })
  let err = ''
  child.stderr.on('data', (c) => {
    err = (err + c).slice(-4000)
  })
  const lines = createInterface({ input: child.stdout })
  const waiting = []
  lines.on('line', (line) => waiting.shift()?.(JSON.parse(line)))
  child.on('close', (code) => {
    for (const w of waiting.splice(0)) w({ error: `driver exited ${code}: ${err}` })
  })
  return {
    call(cmd) {
      return new Promise((resolve) => {
        waiting.push(resolve)
        child.stdin.write(`${JSON.stringify(cmd)}\n`)
      })
    },
    stop: () => child.stdin.end(),
  }
}

/** Reads a request or response body into its chunks (no concatenation). */
function collect(stream) {
  return new Promise((resolve, reject) => {
    const chunks = []
    stream.on('data', (c) => chunks.push(c))
    stream.on('end', () => resolve(chunks))
    stream.on('error', reject)
  })
}

function send(url, chunks) {
  return new Promise((resolve, reject) => {
    const length = chunks.reduce((n, c) => n + c.length, 0)
    const req = httpRequest(url, { method: 'POST', headers: { 'content-length': length } }, (res) =>
      collect(res).then(resolve, reject),
    )
    req.on('error', reject)
    for (const c of chunks) req.write(c)
    req.end()
  })
}

/** Two plain node:http relays: client -> A -> B (echo) -> A -> client, each hop read whole then sent. */
async function startRelay() {
  const listen = (server) =>
    new Promise((r) => server.listen(0, '127.0.0.1', () => r(`http://127.0.0.1:${server.address().port}`)))
  const reply = (res, chunks) => {
    res.writeHead(200, { 'content-length': chunks.reduce((n, c) => n + c.length, 0) })
    for (const c of chunks) res.write(c)
    res.end()
  }
  const b = createServer(async (req, res) => reply(res, await collect(req)))
  const bUrl = await listen(b)
  const a = createServer(async (req, res) => reply(res, await send(bUrl, await collect(req))))
  const aUrl = await listen(a)
  return {
    url: aUrl,
    close() {
      a.close()
      b.close()
    },
  }
}

async function relayOnce(url, payload) {
  const t0 = performance.now()
  const back = await send(url, [payload])
  const elapsed = performance.now() - t0
  if (back.reduce((n, c) => n + c.length, 0) !== payload.length) throw new Error('relay lost bytes')
  return elapsed
}

const fmtX = (growth, bytes) => (growth === null ? 'n/a' : `${(growth / bytes).toFixed(2)}x (${mib(growth)})`)

const dir = mkdtempSync(join(tmpdir(), 'cr-bench-real-'))
const comfy = REAL_URL ? { url: REAL_URL, stop() {} } : await startFakeComfy(dir)
const promptFile = join(dir, 'prompt.json')
writeFileSync(
  promptFile,
  JSON.stringify({
    1: { inputs: { key: 'image' }, class_type: 'ComfyRemoteInput' },
    2: { inputs: { image: ['1', 0] }, class_type: 'ImageInvert' },
    3: { inputs: { value: ['2', 0], key: 'image' }, class_type: 'ComfyRemoteOutput' },
  }),
)
const worker = await startMockWorker(
  WORKER_CLI,
  ['--workflow', promptFile, '--engine', 'comfyui', '--comfyui-url', comfy.url].concat([
    '--body-limit',
    '4gb',
    '--max-stored-bytes',
    '0',
    '--concurrency',
    '1',
    '--log-level',
    'silent',
  ]),
  memEnv(dir),
)
const driver = startDriver(memEnv(dir))
const relay = await startRelay()
const rows = []
let bridgePid = null
try {
  const warm = await driver.call({ op: 'run', url: worker.url, side: 64, runs: 2 })
  if (warm.error) throw new Error(`warm-up failed: ${warm.error}`)
  bridgePid = warm.bridge_pid
  const plan = SIZES.map((m) => ({ label: `${m} MiB`, side: sideFor(m), runs: RUNS }))
  if (GIB) plan.push({ label: '1 GiB in + 1 GiB out', side: sideFor(1024), runs: 1 })
  for (const { label, side, runs } of plan) {
    const bytes = bytesOf(side)
    const bb = bridgePid ? await markMemory(bridgePid, dir) : null
    const wb = await markMemory(worker.pid, dir)
    const t0 = performance.now()
    const answer = await driver.call({ op: 'run', url: worker.url, side, runs, timeout: 3600 })
    const wall = performance.now() - t0
    const bridgeGrowth = bridgePid ? peakGrowth(bridgePid, bb) : null
    const workerGrowth = peakGrowth(worker.pid, wb)
    const payload = Buffer.alloc(bytes, 7)
    const relayTimes = []
    for (let i = 0; i < runs; i++) relayTimes.push(await relayOnce(relay.url, payload))
    const r = median(relayTimes)
    const mem = `${fmtX(bridgeGrowth, bytes)} | ${fmtX(workerGrowth, bytes)}`
    if (answer.error) {
      rows.push(
        `| ${label} | - | failed after ${ms(wall)}: ${answer.error.replace(/\s+/g, ' ').slice(0, 300)} | - | ${ms(r)} | - | ${mem} |`,
      )
      continue
    }
    const remote = median(answer.remote)
    const local = median(answer.local)
    const overhead = remote - local
    rows.push(
      `| ${label} | ${ms(local)} | ${ms(remote)} | ${ms(overhead)} | ${ms(r)} | ${(overhead / r).toFixed(2)}x | ${mem} |`,
    )
  }
} finally {
  driver.stop()
  worker.stop()
  comfy.stop()
  relay.close()
}
console.log(`### comfyui-extension: the real Remote API path (Python node -> bridge -> worker -> ComfyUI -> back)

A Remote API call as the node makes it (\`comfy_remote.remote_call.run_remote\` in Python, persistent
bridge) on a float32 IMAGE \`[1,S,S,3]\` -> mock worker \`--engine comfyui\` -> ${REAL_URL ? `a real ComfyUI (${REAL_URL})` : "the project's fake ComfyUI (packages/io-helpers testing server on this machine: a real temp folder, `--max-upload-size` 4096 MB; its ImageInvert passes the image through)"} running
Remote Input -> ImageInvert -> Remote Output -> back into a decoded array; median of ${RUNS} (1 of the 1 GiB job).
Local = ImageInvert (\`1 - image\`) on the same array in the same process. Overhead = Remote API - local.
Relay = the same bytes through ${HOPS} plain \`node:http\` loopback hops, each read whole before it is forwarded
(client -> worker -> ComfyUI -> worker -> client), in this process. Goal: overhead <= 1.5x relay at 48 MiB and
above. Peak growth = peak RSS during the size's jobs minus the RSS after a GC before them, in payload sizes
(goal <= 2x).

| payload | local ImageInvert | Remote API | overhead | relay (${HOPS} hops) | overhead / relay | bridge peak growth | worker peak growth |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${rows.join('\n')}`)
rmSync(dir, { recursive: true, force: true })
