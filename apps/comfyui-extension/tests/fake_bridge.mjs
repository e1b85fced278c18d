// A fake bridge that speaks the bridge contract, so the Python tests do not depend on the TypeScript build.
// One-shot (stdin: one JSON request; stdout: NDJSON events) or `--serve` (one request per stdin line with an
// "id"; every event carries it; {"op":"cancel","id"} cancels; stdin EOF exits). Behaviour by URL path:
//   /echo    status + 3 progress events, returns every input as an output (files copied to out-<name>.*)
//   /slow    runs until SIGTERM (one-shot) or cancel (serve), then emits error CANCELLED (writes <record>.cancelled)
//   /stubborn  ignores SIGTERM / cancel (the client must give up on it)
//   /fail    error event JOB_FAILED
//   /crash   exits 3 with only stderr (in serve mode too: the whole process dies)
//   /outside returns a file reference outside the work dir
// FAKE_BRIDGE_RECORD=<path>: the request is written there as JSON (serve mode: not pings).
// FAKE_BRIDGE_NO_SERVE=1: `--serve` fails at once (an old bridge), to test the one-shot fallback.
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'

const record = process.env.FAKE_BRIDGE_RECORD
const serving = process.argv.includes('--serve')
const cancelHandlers = new Map()

function handle(req, id) {
  const emit = (event) =>
    process.stdout.write(`${JSON.stringify(id === undefined ? event : { id, ...event })}\n`)
  // One-shot: the process ends with the request. Serve: it stays.
  const done = (code) => {
    if (!serving) process.exit(code)
  }
  const onCancel = (fn) => {
    if (serving) cancelHandlers.set(id, fn)
    else process.on('SIGTERM', fn)
  }
  if (record && !(serving && req.op === 'ping')) writeFileSync(record, JSON.stringify(req))
  if (req.op === 'ping') {
    emit({ event: 'result', version: 'fake-0', node: process.version })
    done(0)
  } else if (req.op === 'run') {
    run(req, emit, done, onCancel)
  } else if (req.op === 'schema') {
    emit({
      event: 'result',
      schema: {
        inputs: [{ name: 'image', nodeId: '3', type: 'IMAGE', required: true }],
        outputs: [{ name: 'result', nodeId: '9', type: 'IMAGE' }],
        transports: ['json', 'multipart'],
        token: req.token,
      },
    })
    done(0)
  } else if (req.op === 'deploy') {
    deploy(req, emit)
    done(0)
  } else {
    emit({ event: 'error', code: 'BAD_REQUEST', message: `unknown op ${req.op}` })
    done(1)
  }
}

function run(req, emit, done, onCancel) {
  const path = new URL(req.url).pathname
  if (path === '/fail') {
    emit({ event: 'error', code: 'JOB_FAILED', message: 'boom: the remote workflow failed' })
    return done(1)
  }
  if (path === '/crash') {
    process.stderr.write('fake bridge crashed on purpose\n')
    process.exit(3)
  }
  if (path === '/slow' || path === '/stubborn') {
    const keepAlive = setInterval(() => {}, 1000)
    onCancel(() => {
      if (path === '/stubborn') return
      clearInterval(keepAlive)
      if (record) writeFileSync(`${record}.cancelled`, 'DELETE /jobs/job-slow')
      emit({ event: 'error', code: 'CANCELLED', message: 'cancelled by the user' })
      done(1)
    })
    emit({ event: 'status', status: 'running', jobId: 'job-slow', queuePosition: null })
    emit({ event: 'progress', value: 0, max: 10, message: 'waiting' })
    return
  }
  if (path === '/outside') {
    emit({
      event: 'result',
      outputs: { x: { type: '*', encoding: 'npy', data: { file: '/etc/hostname' } } },
      result: null,
    })
    return done(0)
  }
  emit({ event: 'status', status: 'pending', jobId: 'job-1', queuePosition: 2 })
  emit({ event: 'status', status: 'running', jobId: 'job-1', queuePosition: null })
  for (let i = 1; i <= 3; i++) emit({ event: 'progress', value: i, max: 3, message: `step ${i}` })
  emit({ event: 'log', level: 'debug', message: 'echoing inputs' })
  const outputs = {}
  for (const [name, value] of Object.entries(req.inputs)) {
    if (value.data && typeof value.data === 'object' && typeof value.data.file === 'string') {
      const out = join(req.workDir, `out-${name}.npy`)
      copyFileSync(value.data.file, out)
      outputs[name] = { ...value, data: { file: out } }
    } else {
      outputs[name] = value
    }
  }
  emit({ event: 'status', status: 'completed', jobId: 'job-1', queuePosition: null })
  emit({ event: 'result', outputs, result: Object.values(outputs)[0] ?? null })
  done(0)
}

function deploy(req, emit) {
  emit({ event: 'log', level: 'info', message: `scaffolding ${req.appName}` })
  emit({ event: 'progress', value: 1, max: 2, message: 'building image' })
  emit({ event: 'log', level: 'info', message: `gpu ${req.gpu}; pip ${req.pipPackages.join(' ')}` })
  const live = req.deploy && !req.dryRun
  const url = live ? `https://fake--${req.appName}.modal.run` : `https://dry-run.invalid/${req.appName}`
  const projectDir = req.workingDirectory
    ? join(req.workingDirectory, req.appName)
    : `/tmp/modal_${req.appName}`
  emit({ event: 'result', url, projectDir, dryRun: req.dryRun, live })
}

if (!serving) {
  handle(JSON.parse(readFileSync(0, 'utf8').split('\n')[0]))
} else if (process.env.FAKE_BRIDGE_NO_SERVE === '1') {
  process.stderr.write('fake bridge: --serve is not supported\n')
  process.exit(2)
} else {
  const lines = createInterface({ input: process.stdin })
  lines.on('line', (line) => {
    if (!line.trim()) return
    const req = JSON.parse(line)
    if (req.op === 'cancel') {
      cancelHandlers.get(req.id)?.()
      cancelHandlers.delete(req.id)
    } else {
      handle(req, req.id)
    }
  })
  lines.on('close', () => {
    for (const fn of cancelHandlers.values()) fn()
    process.exit(0)
  })
}
