// `pnpm bench` section of modal-scaffolder (run after `pnpm build`): the generated Modal app served
// locally (`comfy-remote-modal serve`) against the mock worker's comfyui engine, both in front of the
// same ComfyUI (the project's fake one, or a real one with the node pack at COMFY_REMOTE_BENCH_COMFYUI_URL),
// on the same 12 MiB and 48 MiB IMAGE round trips (multipart both ways). Prints one Markdown section;
// the served app is skipped with a note when no Python with fastapi/uvicorn exists.
import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { decodeMultipart, encodeMultipart, encodeNpy } from '@comfy-remote/protocol'
import { findServePython, scaffoldModalProject } from '../dist/index.js'

const here = dirname(fileURLToPath(import.meta.url))
const repo = join(here, '..', '..', '..')
const RUNS = Number(process.env.BENCH_RUNS ?? 3)
const children = new Set()

function start(args, pattern) {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  children.add(child)
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL from ${args[0]} within 60 s`)), 60_000)
    let seen = ''
    const onData = (chunk) => {
      seen += chunk
      const match = seen.match(pattern)
      if (match) {
        clearTimeout(timer)
        resolve(match[1])
      }
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    child.once('exit', (code) => reject(new Error(`${args[0]} exited early (${code}): ${seen}`)))
  })
}

function image(side, invert = false) {
  const data = new Float32Array(side * side * 3)
  for (let i = 0; i < data.length; i++) data[i] = (i % 251) / 251
  if (invert) for (let i = 0; i < data.length; i++) data[i] = 1 - data[i] // a real ComfyUI's ImageInvert
  return encodeNpy({ dtype: 'float32', shape: [1, side, side, 3], data })
}

async function roundTrip(url, npy, inverted) {
  const { body, contentType } = encodeMultipart({
    inputs: { image: { type: 'IMAGE', encoding: 'npy', data: npy } },
  })
  const started = performance.now()
  const res = await fetch(`${url}/run?wait=120`, {
    method: 'POST',
    body,
    // an Idempotency-Key, as remote-client sends with every run: both workers fingerprint the inputs
    headers: {
      'content-type': contentType,
      accept: 'multipart/form-data, application/json',
      'idempotency-key': randomUUID(),
    },
  })
  const env = decodeMultipart(new Uint8Array(await res.arrayBuffer()), res.headers.get('content-type') ?? '')
  const seconds = (performance.now() - started) / 1000
  const out = env.outputs?.image?.data
  if (
    env.status !== 'completed' ||
    !(out instanceof Uint8Array) ||
    !(Buffer.from(out).equals(Buffer.from(npy)) || Buffer.from(out).equals(Buffer.from(inverted)))
  )
    throw new Error(`${url}: round trip failed: ${JSON.stringify(env.error ?? env.status)}`)
  return seconds
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

const work = mkdtempSync(join(tmpdir(), 'cr-bench-serve-'))
try {
  const comfy =
    process.env.COMFY_REMOTE_BENCH_COMFYUI_URL ??
    (await start(
      [join(repo, 'packages', 'io-helpers', 'dist', 'testing', 'cli.js'), '--port', '0'],
      /"url":\s*"([^"]+)"/,
    ))
  const prompt = join(here, '..', 'test', 'fixtures', 'echo-prompt.json')
  const targets = {
    'mock worker (comfyui engine)': await start(
      [
        join(repo, 'apps', 'mock-worker', 'dist', 'cli.js'),
        '--workflow',
        prompt,
        '--engine',
        'comfyui',
        '--comfyui-url',
        comfy,
        '--port',
        '0',
        '--body-limit',
        '256mb',
        '--log-level',
        'warn',
      ],
      /listening on (http:\/\/127\.0\.0\.1:\d+)/,
    ),
  }
  let note = ''
  try {
    const python = findServePython().python
    const { dir } = await scaffoldModalProject({ workflow: prompt, outDir: work, appName: 'bench-serve' })
    targets['generated app (serve)'] = await start(
      [
        join(here, '..', 'dist', 'cli.js'),
        'serve',
        dir,
        '--comfyui-url',
        comfy,
        '--port',
        '0',
        '--python',
        python,
      ],
      /listening on (http:\/\/127\.0\.0\.1:\d+)/,
    )
  } catch (error) {
    note = `\nThe served app was not measured: ${error.message}\n`
  }
  const rows = []
  for (const [label, side] of [
    ['12 MiB', 1024],
    ['48 MiB', 2048],
  ]) {
    const npy = image(side)
    const inverted = image(side, true)
    const runs = Object.fromEntries(Object.keys(targets).map((name) => [name, []]))
    for (const url of Object.values(targets)) await roundTrip(url, npy, inverted) // warm-up
    // the targets take turns, so a change in the machine's load hits both alike
    for (let i = 0; i < RUNS; i++)
      for (const [name, url] of Object.entries(targets)) runs[name].push(await roundTrip(url, npy, inverted))
    const times = Object.fromEntries(Object.entries(runs).map(([name, xs]) => [name, median(xs)]))
    const [mock, served] = [times['mock worker (comfyui engine)'], times['generated app (serve)']]
    rows.push(
      `| ${label} | ${mock.toFixed(2)} s | ${served === undefined ? '-' : `${served.toFixed(2)} s`} | ${served === undefined ? '-' : `${(served / mock).toFixed(2)}x`} |`,
    )
  }
  process.stdout.write(`### @comfy-remote/modal-scaffolder: the served generated app vs the mock worker

One IMAGE (float32 npy) through \`POST /run?wait=\` (multipart both ways) -> worker -> ${process.env.COMFY_REMOTE_BENCH_COMFYUI_URL ? `a real ComfyUI (${process.env.COMFY_REMOTE_BENCH_COMFYUI_URL})` : 'the fake ComfyUI (io-helpers)'}
running Remote Input -> ImageInvert -> Remote Output -> back, checked byte for byte, with an Idempotency-Key
(as remote-client sends); median of ${RUNS} runs after one warm-up, the two workers taking turns. Same
ComfyUI, same machine, same run. Goal (issue 12): the served app within 1.2x of the mock worker.

| value | mock worker (comfyui engine) | generated app (\`comfy-remote-modal serve\`) | ratio |
| --- | --- | --- | --- |
${rows.join('\n')}
${note}`)
} finally {
  for (const child of children) child.kill('SIGTERM')
  rmSync(work, { recursive: true, force: true })
}
