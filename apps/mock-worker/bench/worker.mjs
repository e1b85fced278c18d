// Load benchmark of the mock worker (run after `pnpm build`): GET /jobs/:id polling throughput vs a bare
// Fastify hello-world measured in the same run, and 200 concurrent echo jobs (nothing lost or duplicated).
// Prints one Markdown section.
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import { startWorker } from '../dist/index.js'

const here = dirname(fileURLToPath(import.meta.url))
const workflow = JSON.parse(readFileSync(join(here, '..', 'test', 'fixtures', 'echo-prompt.json'), 'utf8'))
const DURATION = Number(process.env.BENCH_SECONDS ?? 3)
const CONNECTIONS = 32
const children = new Set()

function startChild(args) {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] })
  children.add(child)
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL from ${args.join(' ')} within 20 s`)), 20_000)
    let seen = ''
    child.stdout.on('data', (chunk) => {
      seen += chunk
      const match = seen.match(/http:\/\/127\.0\.0\.1:\d+/)
      if (match) {
        clearTimeout(timer)
        child.stdout.resume()
        resolve({ child, url: match[0] })
      }
    })
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited early (${code})`)))
  })
}

function cannon(url) {
  return new Promise((resolve, reject) => {
    autocannon({ url, connections: CONNECTIONS, duration: DURATION, pipelining: 1 }, (error, result) =>
      error ? reject(error) : resolve(result),
    )
  })
}

async function polling() {
  const hello = await startChild([join(here, 'hello.mjs')])
  const worker = await startChild([
    join(here, '..', 'dist', 'cli.js'),
    '--workflow',
    join(here, '..', 'test', 'fixtures', 'echo-prompt.json'),
    '--port',
    '0',
    '--steps',
    '1',
    '--step-ms',
    '0',
    '--log-level',
    'warn',
  ])
  const submit = await fetch(`${worker.url}/run?wait=10`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ inputs: { image: { type: 'IMAGE', encoding: 'json', data: [[0.5]] } } }),
  })
  const env = await submit.json()
  if (env.status !== 'completed') throw new Error(`setup job did not complete: ${JSON.stringify(env)}`)
  // Warm up both, then measure alternately (three rounds each) so machine noise hits both alike.
  await cannon(`${hello.url}/hello`)
  await cannon(`${worker.url}${env.poll_url}`)
  const bases = []
  const polls = []
  for (let round = 0; round < 3; round++) {
    bases.push(await cannon(`${hello.url}/hello`))
    polls.push(await cannon(`${worker.url}${env.poll_url}`))
  }
  for (const c of children) c.kill('SIGTERM')
  for (const r of polls) {
    if (r.non2xx > 0 || r.errors > 0)
      throw new Error(`polling saw ${r.non2xx} non-2xx and ${r.errors} errors`)
  }
  return { base: merge(bases), jobs: merge(polls) }
}

/** Median req/s and worst p99 of several autocannon runs. */
function merge(results) {
  const rates = results.map((r) => r.requests.average).sort((a, b) => a - b)
  const average = rates[Math.floor(rates.length / 2)]
  return { requests: { average }, latency: { p99: Math.max(...results.map((r) => r.latency.p99)) } }
}

async function concurrentJobs(count) {
  const { app, url } = await startWorker({
    workflow,
    port: 0,
    steps: 3,
    stepMs: 5,
    concurrency: 16,
    docs: false,
  })
  const started = performance.now()
  const results = await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const res = await fetch(`${url}/run?wait=60`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': `bench-${i}` },
        body: JSON.stringify({ inputs: { image: { type: 'IMAGE', encoding: 'json', data: [i] } } }),
      })
      return { i, env: await res.json() }
    }),
  )
  const seconds = (performance.now() - started) / 1000
  await app.close()
  const completed = results.filter(
    ({ i, env }) => env.status === 'completed' && env.outputs?.result?.data?.[0] === i,
  )
  const ids = new Set(results.map(({ env }) => env.job_id))
  return { count, completed: completed.length, unique: ids.size, seconds }
}

try {
  const { base, jobs } = await polling()
  const load = await concurrentJobs(200)
  const ratio = jobs.requests.average / base.requests.average
  const ok = load.completed === load.count && load.unique === load.count
  const lines = [
    '### mock-worker: polling throughput and concurrent jobs',
    '',
    `autocannon, ${CONNECTIONS} connections, 3 alternating runs of ${DURATION} s per target after a warm-up (median req/s, worst p99); servers in child processes; same run.`,
    '',
    '| measurement | req/s (median run) | p99 latency (worst run) | ratio vs hello-world |',
    '| --- | ---: | ---: | ---: |',
    `| bare Fastify hello-world \`GET /hello\` | ${Math.round(base.requests.average)} | ${base.latency.p99} ms | 1.00 |`,
    `| mock worker \`GET /jobs/:id\` (finished job) | ${Math.round(jobs.requests.average)} | ${jobs.latency.p99} ms | ${ratio.toFixed(2)} |`,
    '',
    '| concurrent echo jobs | completed with their own output | distinct job ids | wall time | jobs/s |',
    '| --- | ---: | ---: | ---: | ---: |',
    `| ${load.count} (\`POST /run?wait=60\`, concurrency 16, 3 steps x 5 ms) | ${load.completed} | ${load.unique} | ${load.seconds.toFixed(2)} s | ${Math.round(load.count / load.seconds)} |`,
    '',
    `Goal: polling >= 50% of hello-world: ${ratio >= 0.5 ? 'met' : 'NOT met'} (${(ratio * 100).toFixed(0)}%). Nothing lost or duplicated: ${ok ? 'yes' : 'NO'}.`,
  ]
  process.stdout.write(`${lines.join('\n')}\n`)
  if (!ok) process.exitCode = 1
} finally {
  for (const c of children) c.kill('SIGTERM')
}
