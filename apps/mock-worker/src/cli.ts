#!/usr/bin/env node
import { parseArgs } from 'node:util'
import { startWorker } from './app.js'
import { isMockWorkerError } from './errors.js'
import type { WorkerOptions } from './options.js'
import { formatContract } from './table.js'
import { type LoadWorkflowOptions, loadWorkflowFile } from './workflow.js'

const HELP = `comfy-remote-mock: a local worker with the comfy-remote HTTP contract

Usage: comfy-remote-mock --workflow <prompt.json | ui-workflow.json> [options]

  --workflow <file>       API-format prompt ("Export (API)") or UI workflow (required)
  --object-info <file>    /object_info used to convert a UI workflow and to type the contract
                          (default: the ComfyUI 0.3.64 object_info shipped with io-helpers)
  --engine echo|comfyui   echo: inputs come back as outputs; comfyui: run on a ComfyUI server (default echo)
  --comfyui-url <url>     ComfyUI server for --engine comfyui (default http://127.0.0.1:8188)
  --comfyui-file-transfer auto|http
                          comfyui: how large values reach ComfyUI. auto (default): linked into its
                          temp/comfy_remote folder when ComfyUI proves it shares this machine's files,
                          else HTTP; http: always POST /upload/image and GET /view
  --host <host>           interface to bind (default 127.0.0.1; others need --token)
  --allow-origin <url>    a web page origin allowed to call the worker (repeatable; others get 403)
  --port <n>              port (default 8787; 0 = any free port)
  --token <secret>        require "Authorization: Bearer <secret>" on every route but /health
                          (also from COMFY_REMOTE_TOKEN)
  --allow-pickle          accept base64+pickle inputs and pass them on undecoded (original callers;
                          the ComfyUI behind must opt in to decode them); default: 400 PICKLE_REFUSED
  --steps <n>             echo: progress steps per job (default 5)
  --step-ms <n>           echo: ms per step (default 100)
  --fail-rate <0..1>      echo: share of jobs that fail with INJECTED_FAILURE (default 0)
  --concurrency <n>       jobs run at once; the rest queue (default 4 echo, 2 comfyui)
  --max-queue <n>         waiting jobs at most before 503 QUEUE_FULL (default 1000)
  --ttl <seconds>         how long finished jobs stay readable (default 3600)
  --max-stored-bytes <n>  payload bytes finished jobs may hold together, e.g. 1gb; the oldest
                          finished jobs are evicted beyond it (default 1gb)
  --body-limit <bytes>    JSON request body limit, e.g. 67108864 or 64mb (default 64mb)
  --multipart-limit <bytes>  multipart request body limit (streamed, large parts spooled to
                          disk; default 4gb)
  --spool-dir <dir>       where large parts, fetched refs and outputs are spooled (default: OS temp)
  --max-input-bytes <n>   memory the inputs of queued + running jobs may hold together; beyond it
                          503 + Retry-After, one request alone above it 413 (default 1gb)
  --max-stored-disk-bytes <n>  spooled bytes finished results may hold together (default 16gb)
  --allow-private-refs    let ref inputs fetch loopback/private/link-local addresses (development only)
  --allow-http-refs       let ref inputs use plain http:// (development only; default https only)
  --ref-max-bytes <n>     largest resource a ref input may fetch (default 4gb)
  --max-wait <seconds>    longest ?wait= honoured (default 120)
  --webhook-secret <whsec_...>
                          Standard Webhooks signing secret (also from COMFY_REMOTE_WEBHOOK_SECRET);
                          without it, requests naming a webhook get 400 WEBHOOK_NOT_CONFIGURED
  --webhook-url <url>     default webhook for jobs whose request names none (https://)
  --allow-loopback-webhooks
                          allow http:// and loopback webhook receivers (local development only)
  --log-level <level>     pino level: fatal|error|warn|info|debug|silent (default info)
  -h, --help              show this help
`

function num(flag: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined
  const match = /^([0-9]*\.?[0-9]+)\s*(kb|mb|gb)?$/i.exec(raw.trim())
  if (match === null) throw new Error(`--${flag}: expected a number, got ${JSON.stringify(raw)}.`)
  const unit = { kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 }[(match[2] ?? '').toLowerCase() as 'kb'] ?? 1
  return Number(match[1]) * unit
}

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      workflow: { type: 'string' },
      'object-info': { type: 'string' },
      engine: { type: 'string' },
      'comfyui-url': { type: 'string' },
      'comfyui-file-transfer': { type: 'string' },
      host: { type: 'string' },
      'allow-origin': { type: 'string', multiple: true },
      port: { type: 'string' },
      token: { type: 'string' },
      'allow-pickle': { type: 'boolean' },
      steps: { type: 'string' },
      'step-ms': { type: 'string' },
      'fail-rate': { type: 'string' },
      concurrency: { type: 'string' },
      'max-queue': { type: 'string' },
      ttl: { type: 'string' },
      'max-stored-bytes': { type: 'string' },
      'body-limit': { type: 'string' },
      'multipart-limit': { type: 'string' },
      'spool-dir': { type: 'string' },
      'max-input-bytes': { type: 'string' },
      'max-stored-disk-bytes': { type: 'string' },
      'max-wait': { type: 'string' },
      'webhook-secret': { type: 'string' },
      'webhook-url': { type: 'string' },
      'allow-loopback-webhooks': { type: 'boolean' },
      'allow-private-refs': { type: 'boolean' },
      'allow-http-refs': { type: 'boolean' },
      'ref-max-bytes': { type: 'string' },
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  })
  if (values.help) {
    process.stdout.write(HELP)
    return
  }
  if (values.workflow === undefined)
    throw new Error('--workflow <file> is required (an API-format prompt or a UI workflow). See --help.')
  const engine = values.engine ?? 'echo'
  if (engine !== 'echo' && engine !== 'comfyui')
    throw new Error(`--engine must be echo or comfyui, got ${JSON.stringify(engine)}.`)
  const comfyuiUrl = values['comfyui-url'] ?? 'http://127.0.0.1:8188'
  const fileTransfer = values['comfyui-file-transfer']
  if (fileTransfer !== undefined && fileTransfer !== 'auto' && fileTransfer !== 'http')
    throw new Error(`--comfyui-file-transfer must be auto or http, got ${JSON.stringify(fileTransfer)}.`)
  const loadOptions: LoadWorkflowOptions = {
    onFallback: (reason) =>
      process.stderr.write(
        `comfy-remote-mock: warning: ${reason} Using the object_info shipped with io-helpers.\n`,
      ),
    onWarning: (message) => process.stderr.write(`comfy-remote-mock: warning: ${message}\n`),
  }
  if (values['object-info'] !== undefined) loadOptions.objectInfoPath = values['object-info']
  else if (engine === 'comfyui') loadOptions.comfyuiUrl = comfyuiUrl
  const loaded = await loadWorkflowFile(values.workflow, loadOptions)
  const options: WorkerOptions = {
    workflow: loaded.prompt,
    engine,
    comfyuiUrl,
    host: values.host ?? '127.0.0.1',
    port: num('port', values.port) ?? 8787,
    logger: { level: values['log-level'] ?? 'info' },
  }
  const set = <K extends keyof WorkerOptions>(key: K, value: WorkerOptions[K] | undefined): void => {
    if (value !== undefined) options[key] = value
  }
  set('objectInfo', loaded.objectInfo)
  set('allowOrigins', values['allow-origin'])
  set('token', values.token ?? (process.env.COMFY_REMOTE_TOKEN || undefined))
  set('allowPickle', values['allow-pickle'])
  set('comfyuiFileTransfer', fileTransfer)
  set('steps', num('steps', values.steps))
  set('stepMs', num('step-ms', values['step-ms']))
  set('failRate', num('fail-rate', values['fail-rate']))
  set('concurrency', num('concurrency', values.concurrency))
  set('maxQueue', num('max-queue', values['max-queue']))
  set('resultTtlSeconds', num('ttl', values.ttl))
  set('maxStoredBytes', num('max-stored-bytes', values['max-stored-bytes']))
  set('bodyLimit', num('body-limit', values['body-limit']))
  set('multipartLimit', num('multipart-limit', values['multipart-limit']))
  set('spoolDir', values['spool-dir'])
  set('maxInputBytes', num('max-input-bytes', values['max-input-bytes']))
  set('maxStoredDiskBytes', num('max-stored-disk-bytes', values['max-stored-disk-bytes']))
  set('maxWaitSeconds', num('max-wait', values['max-wait']))
  set('webhookSecret', values['webhook-secret'] ?? (process.env.COMFY_REMOTE_WEBHOOK_SECRET || undefined))
  set('webhookUrl', values['webhook-url'])
  set('allowLoopbackWebhooks', values['allow-loopback-webhooks'])
  set('allowPrivateRefs', values['allow-private-refs'])
  set('allowHttpRefs', values['allow-http-refs'])
  set('refMaxBytes', num('ref-max-bytes', values['ref-max-bytes']))

  const { app, url } = await startWorker(options)
  process.stdout.write(
    `comfy-remote mock worker (${engine} engine${engine === 'comfyui' ? ` -> ${comfyuiUrl}` : ''}) listening on ${url}\n` +
      `Docs: ${url}/docs   Auth: ${options.token === undefined ? 'none (loopback only)' : 'Bearer token required'}` +
      `   Webhooks: ${options.webhookSecret === undefined ? 'off (no --webhook-secret)' : 'signed'}\n\n` +
      `${formatContract(loaded.contract)}\n\n`,
  )
  let closing = false
  const shutdown = (signal: string): void => {
    if (closing) process.exit(1)
    closing = true
    app.log.info({ signal }, 'shutting down')
    app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    )
  }
  process.on('SIGINT', () => shutdown('SIGINT'))
  process.on('SIGTERM', () => shutdown('SIGTERM'))
}

main(process.argv.slice(2)).catch((error: unknown) => {
  const code = isMockWorkerError(error) ? `${error.code}: ` : ''
  process.stderr.write(
    `comfy-remote-mock: ${code}${error instanceof Error ? error.message : String(error)}\n`,
  )
  process.exit(1)
})
