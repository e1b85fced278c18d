import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import type { EncodedValue, WorkflowSchema } from '@comfy-remote/protocol'
import { createRemoteClient } from '../client.js'
import { CliError, isCliError, isRemoteJobError } from '../errors.js'
import type { PreviewInfo } from '../follow.js'
import type { Transport } from '../options.js'
import { checkInputs, loadInputs } from './inputs.js'
import { DEFAULT_OUTPUT_LIMITS, prepareOutputDir, writeOutputs } from './outputs.js'
import { createPreviewWriter } from './previews.js'
import { createProgressView, timingsLine } from './progress.js'
import { USAGE } from './usage.js'

export interface CliIo {
  stdout: { write(text: string): unknown; isTTY?: boolean; columns?: number }
  stderr: { write(text: string): unknown; isTTY?: boolean; columns?: number }
  env: Record<string, string | undefined>
  /** Aborts the running call (SIGINT/SIGTERM). */
  signal?: AbortSignal
}

function seconds(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!Number.isFinite(n) || n <= 0)
    throw new CliError('USAGE', `${flag} must be a positive number of seconds (got "${value}")`)
  return n
}

function version(): string {
  try {
    return (
      JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
    ).version
  } catch {
    return 'unknown'
  }
}

export function schemaTable(schema: WorkflowSchema): string {
  const rows = (head: string[], body: string[][]): string => {
    const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? '').length)))
    const fmt = (r: string[]) => `  ${r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ')}`.trimEnd()
    return [fmt(head), ...body.map(fmt)].join('\n')
  }
  const inputs = schema.inputs.map((i) => [
    i.name,
    i.type,
    i.required ? 'yes' : 'no',
    i.default === undefined ? '' : JSON.stringify(i.default),
  ])
  const outputs = schema.outputs.map((o) => [o.name, o.type])
  const transports = schema.transports ? `\ntransports: ${schema.transports.join(', ')}` : ''
  return `inputs\n${inputs.length ? rows(['name', 'type', 'required', 'default'], inputs) : '  (none)'}\noutputs\n${outputs.length ? rows(['name', 'type'], outputs) : '  (none)'}${transports}\n`
}

const OPTIONS = {
  input: { type: 'string', short: 'i', multiple: true },
  out: { type: 'string', short: 'o' },
  token: { type: 'string' },
  timeout: { type: 'string' },
  'poll-interval': { type: 'string' },
  transport: { type: 'string' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
  webhook: { type: 'string' },
  'max-files': { type: 'string' },
  'max-decoded-mb': { type: 'string' },
  previews: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const

/** Runs the CLI; returns the exit code. Never throws. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    return await dispatch(argv, io)
  } catch (error) {
    const code =
      (isCliError(error) && error.code !== 'OUTPUT' && error.code !== 'OUTPUT_LIMIT') ||
      (isRemoteJobError(error) && error.code === 'BAD_OPTIONS')
        ? 2
        : 1
    const label = errorCode(error)
    const message = error instanceof Error ? error.message : String(error)
    io.stderr.write(`comfy-remote: ${label}: ${message.replace(/\s*\n\s*/g, ' ')}\n`)
    if (isRemoteJobError(error) && error.code === 'CANCELLED' && io.signal?.aborted) return 130
    return code
  }
}

/** Every failure is reported with a code: ours, the protocol's (BAD_ENVELOPE, NPY_*...), else INTERNAL. */
function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' && /^[A-Z][A-Z0-9_]+$/.test(code) ? code : 'INTERNAL'
}

function positiveInt(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!Number.isSafeInteger(n) || n <= 0)
    throw new CliError('USAGE', `${flag} must be a positive whole number (got "${value}")`)
  return n
}

async function dispatch(argv: readonly string[], io: CliIo): Promise<number> {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true })
  } catch (cause) {
    throw new CliError('USAGE', `${(cause as Error).message}; see comfy-remote --help`, { cause })
  }
  const { values, positionals } = parsed
  if (values.version) {
    io.stdout.write(`${version()}\n`)
    return 0
  }
  if (values.help || positionals.length === 0) {
    io.stdout.write(USAGE)
    return values.help ? 0 : 2
  }
  const [command, url, ...rest] = positionals
  if (command !== 'call' && command !== 'schema')
    throw new CliError('USAGE', `unknown command "${command}"; use call or schema (see --help)`)
  if (url === undefined)
    throw new CliError('USAGE', `${command} needs the endpoint URL: comfy-remote ${command} <url>`)
  if (rest.length > 0)
    throw new CliError('USAGE', `unexpected argument "${rest[0]}"; inputs go in --input name=value`)
  const transport = (values.transport ?? 'auto') as Transport
  if (!['auto', 'json', 'multipart'].includes(transport))
    throw new CliError('USAGE', `--transport must be auto, json or multipart (got "${values.transport}")`)
  const token = values.token ?? io.env.COMFY_REMOTE_TOKEN
  const client = createRemoteClient({
    url,
    ...(token ? { token } : {}),
    timeout: seconds(values.timeout, '--timeout', 300) * 1000,
    pollInterval: seconds(values['poll-interval'], '--poll-interval', 1.5) * 1000,
    transport,
  })
  if (command === 'schema') {
    const schema = await client.schema(io.signal ? { signal: io.signal } : {})
    io.stdout.write(values.json ? `${JSON.stringify(schema, null, 2)}\n` : schemaTable(schema))
    return 0
  }
  const specs = values.input ?? []
  if (specs.length === 0)
    throw new CliError(
      'USAGE',
      'call needs at least one --input name=value (see comfy-remote schema <url> for the names)',
    )
  await checkInputs(specs) // fail fast on bad arguments and missing files, before any network
  // The endpoint's /schema (when it has one) gives the ComfyUI types of untyped inputs.
  const schema = await createRemoteClient({ url, ...(token ? { token } : {}), retry: false, timeout: 10_000 })
    .schema(io.signal ? { signal: io.signal } : {})
    .catch(() => undefined)
  const inputs = await loadInputs(specs, schema)
  // outputs the worker sends by reference stream straight into the output folder
  const limits = {
    maxFiles: positiveInt(values['max-files'], '--max-files', DEFAULT_OUTPUT_LIMITS.maxFiles),
    maxDecodedBytes:
      positiveInt(
        values['max-decoded-mb'],
        '--max-decoded-mb',
        DEFAULT_OUTPUT_LIMITS.maxDecodedBytes / 2 ** 20,
      ) *
      2 ** 20,
  }
  const outDir = await prepareOutputDir(values.out ?? '.')
  const view = createProgressView(values.quiet ? { write: () => true } : io.stderr)
  const previews = values.previews === undefined ? undefined : createPreviewWriter(values.previews)
  let env: Awaited<ReturnType<typeof client.run>>
  try {
    env = await client.run(inputs, {
      onStatus: (s, e) => view.status(s, e),
      onProgress: (p) => view.progress(p),
      outputFiles: { dir: outDir, prefix: '' },
      ...(previews ? { onPreview: (p: PreviewInfo) => previews.onPreview(p) } : {}),
      ...(values.webhook !== undefined ? { webhook: values.webhook } : {}),
      ...(io.signal ? { signal: io.signal } : {}),
    })
  } finally {
    view.done()
    const written = await previews?.close()
    if (previews && !values.quiet)
      io.stderr.write(`comfy-remote: ${written} previews in ${values.previews}\n`)
  }
  if (env.timings && !values.quiet) io.stderr.write(`${timingsLine(env.timings)}\n`)
  const outputs: Record<string, EncodedValue> =
    env.outputs && Object.keys(env.outputs).length > 0
      ? env.outputs
      : env.result
        ? { result: env.result }
        : {}
  const notes: string[] = []
  const written = await writeOutputs(outDir, outputs, limits, notes)
  for (const note of notes) io.stderr.write(`comfy-remote: ${note}\n`)
  for (const path of written) io.stdout.write(`${path}\n`)
  if (written.length === 0) io.stderr.write('comfy-remote: the job completed without outputs\n')
  return 0
}
