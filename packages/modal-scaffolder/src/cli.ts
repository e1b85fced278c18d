#!/usr/bin/env node
import { once } from 'node:events'
import { parseArgs } from 'node:util'
import { deployModalProject, stopModalApp } from './deploy.js'
import { isModalScaffolderError } from './errors.js'
import type { TorchPresetId } from './presets.js'
import { scaffoldModalProject } from './scaffold.js'
import { startServe } from './serve.js'

const SCAFFOLD_HELP = `comfy-remote-modal scaffold: write a Modal project for a ComfyUI workflow

usage: comfy-remote-modal scaffold --workflow <file> --out <dir> --app-name <name> [options]

  --workflow <file>        API-format prompt ("Export (API)") or UI workflow (required)
  --out <dir>              output folder; the project goes to <dir>/<app-name> (required)
  --app-name <name>        Modal app name: lowercase letters, digits, dashes (required)
  --gpu <type>             Modal GPU type (default H100)
  --pip <a,b>              extra pip requirements, comma separated (name, name==1.2, git+https://...)
  --apt <a,b>              extra Debian packages, comma separated
  --object-info <file>     /object_info of your ComfyUI: converts a UI workflow and types the contract
  --comfyui-ref <ref>      ComfyUI git tag or commit to build (default: the pinned release)
  --torch-preset <id>      cu128 | cu121-legacy | none (default: the one matching the ComfyUI ref)
  --auth <mode>            token (default: bearer token from a Modal Secret) | proxy | none
  --auth-secret <name>     Modal Secret holding COMFY_REMOTE_TOKEN (default <app-name>-auth)
  --node-pack <dir>        the Remote Input/Output node pack to copy (default: the bundled one)
  --model <url>=<path>[@sha256:<hex>]
                           a model file downloaded at image build time into ComfyUI/models/<path>
                           (repeatable)
  --models-secret <name>   Modal Secret with HF_TOKEN for gated Hugging Face downloads
  --volume <name>          a Modal Volume mounted as an extra models folder
  --memory-snapshot        Modal memory snapshots: ComfyUI's start-up is captured once and restored on
                           cold starts (custom nodes must not touch CUDA at import)
  --gpu-snapshot           also snapshot GPU memory (Modal alpha; needs --memory-snapshot)
  --warmup                 run the workflow once with its default inputs when a container starts
                           (before the snapshot with --gpu-snapshot; failures are logged, not fatal)
  --startup-timeout <s>    seconds one container start may take (ComfyUI, restore, warm-up; default 900)
  --overwrite              regenerate a project this tool made before, in place
  --clean                  delete the project this tool made before, then write it anew
  -h, --help               this help

Prints the project folder on stdout. An existing folder is never overwritten unless it holds a project
this tool made and --overwrite or --clean is given (OUTPUT_EXISTS).`

const DEPLOY_HELP = `comfy-remote-modal deploy: run \`modal deploy\` for a scaffolded project

usage: comfy-remote-modal deploy <dir> [--force-rebuild] [--dry-run]

  --force-rebuild          rebuild the image from scratch (MODAL_IGNORE_CACHE=1 and a new build nonce)
  --dry-run                print what would run and a placeholder URL; nothing is deployed
  -h, --help               this help

Prints the endpoint URL as the last line of stdout.`

const SERVE_HELP = `comfy-remote-modal serve: run a scaffolded project's own web app and runner locally, without Modal

usage: comfy-remote-modal serve <dir> --comfyui-url <url> [options]

  --comfyui-url <url>      a running ComfyUI with the comfy-remote nodes installed (required)
  --port <n>               port (default 8000; 0 = any free port)
  --host <host>            interface to bind (default 127.0.0.1; others need --token)
  --token <secret>         require "Authorization: Bearer <secret>" on every route but /health
                           (also from COMFY_REMOTE_TOKEN)
  --python <python3>       the Python to run the app with (default: $COMFY_REMOTE_PYTHON, else the first
                           of python3, python, /usr/bin/python3 with fastapi, uvicorn, websocket-client)
  -h, --help               this help

Prints "listening on http://<host>:<port>" when ready; call it like the deployed app
(comfy-remote call http://127.0.0.1:8000 --input ...). Stops on Ctrl+C.`

const STOP_HELP = `comfy-remote-modal stop: stop a deployed app (\`modal app stop --yes\`)

usage: comfy-remote-modal stop <app-name>

  -h, --help               this help`

const USAGE = `comfy-remote-modal: turn a ComfyUI workflow into a Modal app, deploy it, stop it

usage:
  comfy-remote-modal scaffold --workflow <file> --out <dir> --app-name <name> [options]
  comfy-remote-modal serve <dir> --comfyui-url <url> [--port 8000] [--token <secret>]
  comfy-remote-modal deploy <dir> [--force-rebuild] [--dry-run]
  comfy-remote-modal stop <app-name>
  comfy-remote-modal <command> --help     every option of a command

Exit codes: 0 done, 1 the command failed (CODE: reason on stderr), 2 bad arguments.`

const HELP: Record<string, string> = {
  scaffold: SCAFFOLD_HELP,
  serve: SERVE_HELP,
  deploy: DEPLOY_HELP,
  stop: STOP_HELP,
}

/** True when a subcommand's arguments ask for its help. */
function wantsHelp(argv: string[]): boolean {
  return argv.includes('--help') || argv.includes('-h')
}

class UsageError extends Error {}

function need(value: string | undefined, flag: string): string {
  if (value === undefined || value === '') throw new UsageError(`${flag} is required`)
  return value
}

/** A whole number of seconds from a flag's text (range checks are the scaffolder's). */
function seconds(text: string, flag: string): number {
  if (!/^\d{1,6}$/.test(text.trim()))
    throw new UsageError(`${flag} must be a whole number of seconds, got "${text}"`)
  return Number(text)
}

async function scaffold(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      workflow: { type: 'string' },
      out: { type: 'string' },
      'app-name': { type: 'string' },
      gpu: { type: 'string' },
      pip: { type: 'string' },
      apt: { type: 'string' },
      clean: { type: 'boolean' },
      overwrite: { type: 'boolean' },
      'object-info': { type: 'string' },
      'comfyui-ref': { type: 'string' },
      'torch-preset': { type: 'string' },
      auth: { type: 'string' },
      'auth-secret': { type: 'string' },
      'node-pack': { type: 'string' },
      model: { type: 'string', multiple: true },
      'models-secret': { type: 'string' },
      volume: { type: 'string' },
      'memory-snapshot': { type: 'boolean' },
      'gpu-snapshot': { type: 'boolean' },
      warmup: { type: 'boolean' },
      'startup-timeout': { type: 'string' },
    },
  })
  const result = await scaffoldModalProject({
    workflow: need(values.workflow, '--workflow'),
    outDir: need(values.out, '--out'),
    appName: need(values['app-name'], '--app-name'),
    ...(values.gpu !== undefined && { gpu: values.gpu }),
    ...(values.pip !== undefined && { pipPackages: values.pip }),
    ...(values.apt !== undefined && { aptPackages: values.apt }),
    ...(values.clean && { cleanBuild: true }),
    ...(values.overwrite && { overwrite: true }),
    ...(values['object-info'] !== undefined && { objectInfo: values['object-info'] }),
    ...(values['comfyui-ref'] !== undefined && { comfyuiRef: values['comfyui-ref'] }),
    ...(values['torch-preset'] !== undefined && { torchPreset: values['torch-preset'] as TorchPresetId }),
    ...(values.auth !== undefined && { auth: values.auth as 'token' | 'proxy' | 'none' }),
    ...(values['auth-secret'] !== undefined && { authSecretName: values['auth-secret'] }),
    ...(values['node-pack'] !== undefined && { nodePackDir: values['node-pack'] }),
    ...(values.model !== undefined && { models: values.model }),
    ...(values['models-secret'] !== undefined && { modelsSecret: values['models-secret'] }),
    ...(values.volume !== undefined && { volume: values.volume }),
    ...(values['memory-snapshot'] && { memorySnapshot: true }),
    ...(values['gpu-snapshot'] && { gpuSnapshot: true }),
    ...(values.warmup && { warmup: true }),
    ...(values['startup-timeout'] !== undefined && {
      startupTimeoutSeconds: seconds(values['startup-timeout'], '--startup-timeout'),
    }),
  })
  process.stderr.write(`wrote ${result.files.length} files\n`)
  if (result.config.auth.mode === 'token')
    process.stderr.write(
      `auth: create the secret once with: modal secret create ${result.config.auth.secret_name} COMFY_REMOTE_TOKEN=<long random token>\n`,
    )
  if (result.config.models_secret)
    process.stderr.write(
      `models: create the secret once with: modal secret create ${result.config.models_secret} HF_TOKEN=<your Hugging Face token>\n`,
    )
  if (result.config.volume)
    process.stderr.write(
      `volume: upload models with: modal volume put ${result.config.volume} <local file> /checkpoints/<file>\n`,
    )
  const cold = result.config.cold_start
  if (cold.memory_snapshot)
    process.stderr.write(
      `cold start: ${cold.gpu_snapshot ? 'CPU+GPU' : 'CPU'} memory snapshots on; the first container after each deploy creates the snapshot (a slower start), later cold starts restore it\n`,
    )
  process.stdout.write(`${result.dir}\n`)
}

async function deploy(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: { 'force-rebuild': { type: 'boolean' }, 'dry-run': { type: 'boolean' } },
  })
  if (positionals.length !== 1) throw new UsageError('deploy takes exactly one project directory')
  const result = await deployModalProject(positionals[0] as string, {
    forceRebuild: values['force-rebuild'] === true,
    dryRun: values['dry-run'] === true,
    onLog: (line) => process.stderr.write(`modal: ${line}\n`),
  })
  if (result.dryRun) process.stderr.write('DRY RUN: the URL below is a placeholder, not a live endpoint\n')
  process.stdout.write(`${result.url}\n`)
}

async function serve(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: {
      'comfyui-url': { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      token: { type: 'string' },
      python: { type: 'string' },
    },
  })
  if (positionals.length !== 1) throw new UsageError('serve takes exactly one project directory')
  const port = values.port === undefined ? 8000 : Number(values.port)
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`--port must be an integer in 0..65535, got ${JSON.stringify(values.port)}`)
  const token = values.token ?? (process.env.COMFY_REMOTE_TOKEN || undefined)
  const { child, python } = startServe({
    projectDir: positionals[0] as string,
    comfyuiUrl: need(values['comfyui-url'], '--comfyui-url'),
    port,
    ...(values.host !== undefined && { host: values.host }),
    ...(token !== undefined && { token }),
    ...(values.python !== undefined && { python: values.python }),
  })
  if (!python.websocket)
    process.stderr.write(
      `comfy-remote-modal: ${python.python} has no websocket-client; the runner polls ComfyUI's /history instead (coarser progress)\n`,
    )
  const forward = (signal: NodeJS.Signals) => () => child.kill(signal)
  const onInt = forward('SIGINT')
  const onTerm = forward('SIGTERM')
  process.on('SIGINT', onInt)
  process.on('SIGTERM', onTerm)
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null]
  process.off('SIGINT', onInt)
  process.off('SIGTERM', onTerm)
  return code ?? (signal === 'SIGINT' || signal === 'SIGTERM' ? 0 : 1)
}

async function stop(argv: string[]): Promise<void> {
  const { positionals } = parseArgs({ args: argv, strict: true, allowPositionals: true, options: {} })
  if (positionals.length !== 1) throw new UsageError('stop takes exactly one app name')
  await stopModalApp(positionals[0] as string, { onLog: (line) => process.stderr.write(`modal: ${line}\n`) })
  process.stdout.write(`stopped ${positionals[0]}\n`)
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  try {
    if (command !== undefined && HELP[command] !== undefined && wantsHelp(rest)) {
      process.stdout.write(`${HELP[command]}\n`)
      return 0
    }
    if (command === 'scaffold') await scaffold(rest)
    else if (command === 'deploy') await deploy(rest)
    else if (command === 'stop') await stop(rest)
    else if (command === 'serve') return await serve(rest)
    else if (command === '--help' || command === '-h' || command === 'help')
      process.stdout.write(`${USAGE}\n`)
    else throw new UsageError(command ? `unknown command "${command}"` : 'a command is required')
    return 0
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(
        `comfy-remote-modal: ${(error as Error).message}\n${(command && HELP[command]) || USAGE}\n`,
      )
      return 2
    }
    const text = isModalScaffolderError(error)
      ? `${error.code}: ${error.message}`
      : String((error as Error)?.message ?? error)
    process.stderr.write(`comfy-remote-modal: ${text.replace(/\s*\n\s*/g, ' ')}\n`)
    return 1
  }
}

process.exitCode = await main(process.argv.slice(2))
