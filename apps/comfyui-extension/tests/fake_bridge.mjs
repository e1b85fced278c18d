// A fake bridge that speaks the bridge contract (stdin: one JSON request; stdout: NDJSON events),
// so the Python tests do not depend on the TypeScript build. Behaviour is picked by the URL path:
//   /echo    status + 3 progress events, returns every input as an output (files copied to out-<name>.*)
//   /slow    runs until SIGTERM, then emits error CANCELLED (and writes <record>.cancelled)
//   /stubborn  ignores SIGTERM (the client must SIGKILL it)
//   /fail    error event JOB_FAILED
//   /crash   exits 3 with only stderr
//   /outside returns a file reference outside the work dir
// FAKE_BRIDGE_RECORD=<path>: the request is written there as JSON.
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const emit = (event) => process.stdout.write(`${JSON.stringify(event)}\n`)
const record = process.env.FAKE_BRIDGE_RECORD

function run(req) {
  const path = new URL(req.url).pathname
  if (path === '/fail') {
    emit({ event: 'error', code: 'JOB_FAILED', message: 'boom: the remote workflow failed' })
    process.exit(1)
  }
  if (path === '/crash') {
    process.stderr.write('fake bridge crashed on purpose\n')
    process.exit(3)
  }
  if (path === '/slow' || path === '/stubborn') {
    process.on('SIGTERM', () => {
      if (path === '/stubborn') return
      if (record) writeFileSync(`${record}.cancelled`, 'DELETE /jobs/job-slow')
      emit({ event: 'error', code: 'CANCELLED', message: 'cancelled by the user' })
      process.exit(1)
    })
    emit({ event: 'status', status: 'running', jobId: 'job-slow', queuePosition: null })
    emit({ event: 'progress', value: 0, max: 10, message: 'waiting' })
    setInterval(() => {}, 1000)
    return
  }
  if (path === '/outside') {
    emit({
      event: 'result',
      outputs: { x: { type: '*', encoding: 'npy', data: { file: '/etc/hostname' } } },
      result: null,
    })
    process.exit(0)
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
  process.exit(0)
}

function deploy(req) {
  emit({ event: 'log', level: 'info', message: `scaffolding ${req.appName}` })
  emit({ event: 'progress', value: 1, max: 2, message: 'building image' })
  emit({ event: 'log', level: 'info', message: `gpu ${req.gpu}; pip ${req.pipPackages.join(' ')}` })
  const live = req.deploy && !req.dryRun
  const url = live ? `https://fake--${req.appName}.modal.run` : `https://dry-run.invalid/${req.appName}`
  const projectDir = req.workingDirectory
    ? join(req.workingDirectory, req.appName)
    : `/tmp/modal_${req.appName}`
  emit({ event: 'result', url, projectDir, dryRun: req.dryRun, live })
  process.exit(0)
}

const input = readFileSync(0, 'utf8')
const req = JSON.parse(input.split('\n')[0])
if (record) writeFileSync(record, JSON.stringify(req))
if (req.op === 'ping') {
  emit({ event: 'result', version: 'fake-0', node: process.version })
} else if (req.op === 'run') {
  run(req)
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
} else if (req.op === 'deploy') {
  deploy(req)
} else {
  emit({ event: 'error', code: 'BAD_REQUEST', message: `unknown op ${req.op}` })
  process.exit(1)
}
