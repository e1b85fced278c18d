#!/usr/bin/env node
import { createFakeComfyUI } from './server.js'

const USAGE =
  'usage: node dist/testing/cli.js [--port 0] [--host 127.0.0.1] [--delay-ms N] [--progress-steps N] [--step-delay-ms N] [--progress-text] [--step-previews] [--cache] [--temp-dir DIR]'

function parseArgs(argv: string[]): Record<string, string | true> {
  const out: Record<string, string | true> = {}
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (!arg.startsWith('--')) throw new Error(`unexpected argument "${arg}"; ${USAGE}`)
    const [name, inline] = arg.slice(2).split('=', 2) as [string, string | undefined]
    if (name === 'progress-text' || name === 'step-previews' || name === 'cache' || name === 'help')
      out[name] = true
    else {
      const value = inline ?? argv[++i]
      if (value === undefined) throw new Error(`--${name} needs a value; ${USAGE}`)
      out[name] = value
    }
  }
  return out
}

function int(args: Record<string, string | true>, name: string): number | undefined {
  const raw = args[name]
  if (raw === undefined) return undefined
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 0)
    throw new Error(`--${name} must be a non-negative integer, got "${String(raw)}"`)
  return n
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2))
  if (args.help) {
    process.stdout.write(`${USAGE}\n`)
    return
  }
  const known = new Set([
    'port',
    'host',
    'delay-ms',
    'steps',
    'progress-steps',
    'step-delay-ms',
    'progress-text',
    'step-previews',
    'cache',
    'temp-dir',
  ])
  for (const name of Object.keys(args))
    if (!known.has(name)) throw new Error(`unknown option --${name}; ${USAGE}`)
  const fake = await createFakeComfyUI({
    port: int(args, 'port') ?? 0,
    host: typeof args.host === 'string' ? args.host : '127.0.0.1',
    nodeDelayMs: int(args, 'delay-ms'),
    progressSteps: int(args, 'progress-steps') ?? int(args, 'steps'),
    stepDelayMs: int(args, 'step-delay-ms'),
    progressText: args['progress-text'] === true,
    stepPreviews: args['step-previews'] === true,
    cache: args.cache === true,
    ...(typeof args['temp-dir'] === 'string' ? { tempDir: args['temp-dir'] } : {}),
  })
  process.stdout.write(`${JSON.stringify({ url: fake.url })}\n`)
  const stop = () => {
    void fake.close().then(() => process.exit(0))
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
  // Do not outlive the process that started us (a test runner killed without cleanup).
  const parent = process.ppid
  setInterval(() => {
    if (process.ppid !== parent) stop()
  }, 1000).unref()
}

main().catch((error: unknown) => {
  process.stderr.write(`fake-comfyui: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exit(2)
})
