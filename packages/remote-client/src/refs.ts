import type { EncodedValue, JobEnvelope } from '@comfy-remote/protocol'
import type { Core } from './core.js'
import { RemoteJobError } from './errors.js'
import { httpError, readBody } from './http.js'
import { extensionFor } from './media-types.js'
import { joinUrl } from './options.js'
import { backoffDelay, RETRYABLE_STATUSES, sleep } from './retry.js'
import type { CallScope } from './scope.js'

/** Where `run` puts outputs that arrive by reference (`ref`), instead of memory. Node only. */
export interface OutputFiles {
  /** An existing folder; each such output is streamed into a new file there (never replacing one). */
  dir: string
  /** File name prefix before the output name (default `out-`). */
  prefix?: string
}

/** A value whose bytes are behind a ref: `{ref, bytes?}` without `data`. */
function isRefValue(v: unknown): v is EncodedValue & { ref: string } {
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as EncodedValue).encoding === 'string' &&
    typeof (v as EncodedValue).ref === 'string' &&
    (v as EncodedValue).data === undefined
  )
}

/** A file-name stem from an output name: safe characters only, never a path. */
export function safeStem(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^\.+/, '_')
  return cleaned === '' ? 'output' : cleaned.slice(0, 100)
}

export interface Sink {
  write(chunk: Uint8Array): Promise<void>
  /** Drops what was written (the server restarted the body instead of resuming it). */
  reset(): Promise<void>
  finish(): Promise<Uint8Array | { file: string }>
  abandon(): Promise<void>
}

export function memorySink(expected: number | undefined): Sink {
  let buffer = new Uint8Array(expected ?? 1 << 16)
  let size = 0
  return {
    async write(chunk) {
      if (size + chunk.byteLength > buffer.byteLength) {
        const grown = new Uint8Array(Math.max(buffer.byteLength * 2, size + chunk.byteLength))
        grown.set(buffer.subarray(0, size))
        buffer = grown
      }
      buffer.set(chunk, size)
      size += chunk.byteLength
    },
    async reset() {
      size = 0
    },
    async finish() {
      return size === buffer.byteLength ? buffer : buffer.subarray(0, size)
    },
    async abandon() {},
  }
}

const SINK_FLUSH_BYTES = 1024 * 1024

/** What is left of `chunks` after the first `written` bytes (a short writev). */
function unwritten(chunks: Uint8Array[], written: number): Uint8Array[] {
  const rest: Uint8Array[] = []
  let skip = written
  for (const chunk of chunks) {
    if (skip >= chunk.byteLength) {
      skip -= chunk.byteLength
      continue
    }
    rest.push(skip > 0 ? chunk.subarray(skip) : chunk)
    skip = 0
  }
  return rest
}

/** A new file `<dir>/<stem>.<ext>` (`-2`, `-3`... when taken), created exclusively (no symlink is followed). */
export async function fileSink(dir: string, stem: string, ext: string): Promise<Sink> {
  const fs = await import('node:fs/promises')
  const path = await import('node:path')
  let handle: Awaited<ReturnType<typeof fs.open>> | undefined
  let file = ''
  for (let n = 1; handle === undefined; n++) {
    file = path.join(dir, `${stem}${n === 1 ? '' : `-${n}`}.${ext}`)
    try {
      handle = await fs.open(file, 'wx', 0o600)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || n > 10_000) throw error
    }
  }
  const h = handle
  let position = 0
  // Network chunks are ~64 KiB: one awaited write each makes a 48 MiB file 3-4x slower than writing
  // them 1 MiB at a time (writev of the held chunks, no copy).
  let held: Uint8Array[] = []
  let heldBytes = 0
  const flush = async () => {
    let chunks = held
    let left = heldBytes
    held = []
    heldBytes = 0
    while (left > 0) {
      const { bytesWritten } = await h.writev(chunks, position)
      position += bytesWritten
      left -= bytesWritten
      if (left > 0) chunks = unwritten(chunks, bytesWritten)
    }
  }
  return {
    async write(chunk) {
      held.push(chunk)
      heldBytes += chunk.byteLength
      if (heldBytes >= SINK_FLUSH_BYTES) await flush()
    },
    async reset() {
      held = []
      heldBytes = 0
      await h.truncate(0)
      position = 0
    },
    async finish() {
      await flush()
      await h.close()
      return { file: path.resolve(file) }
    },
    async abandon() {
      await h.close().catch(() => undefined)
      await fs.rm(file, { force: true })
    },
  }
}

/** `Content-Range: bytes <start>-<end>/<total>` -> start, or undefined. */
function rangeStart(header: string | null): number | undefined {
  const m = /^bytes\s+(\d+)-\d+\/(?:\d+|\*)$/i.exec(header?.trim() ?? '')
  return m ? Number(m[1]) : undefined
}

/**
 * Downloads the raw bytes behind one ref into `sink`: the endpoint's auth header (same origin only),
 * an idle timeout (requestTimeout without a byte), retries of transient failures that resume with
 * `Range` where the last attempt stopped. Checks the size against `bytes` when the value gave it.
 */
async function download(
  core: Core,
  url: string,
  expected: number | undefined,
  sink: Sink,
  scope: CallScope,
): Promise<void> {
  const { options, http } = core
  let got = 0
  for (let tryNo = 0; ; tryNo++) {
    const idle = new AbortController()
    let timer = setTimeout(() => idle.abort(), options.requestTimeout)
    const bump = () => {
      clearTimeout(timer)
      timer = setTimeout(() => idle.abort(), options.requestTimeout)
    }
    let retryable = true
    let failure: RemoteJobError
    try {
      const headers = http.headersFor(url, got > 0 ? { range: `bytes=${got}-` } : {})
      const response = await http.raw(url, {
        method: 'GET',
        headers,
        signal: AbortSignal.any([scope.signal, idle.signal]),
      })
      if (response.status >= 400) {
        const body = await readBody(response)
        failure = httpError(response.status, body, response.headers.get('content-type') ?? '', url, 'output')
        retryable = RETRYABLE_STATUSES.has(response.status)
        throw failure
      }
      if (got > 0 && (response.status !== 206 || rangeStart(response.headers.get('content-range')) !== got)) {
        await sink.reset() // the server sent the whole body again
        got = 0
      }
      const stream = (response as Response & { _data?: ReadableStream<Uint8Array> })._data ?? response.body
      if (stream) {
        const reader = stream.getReader()
        for (let r = await reader.read(); !r.done; r = await reader.read()) {
          bump()
          await sink.write(r.value)
          got += r.value.byteLength
          if (expected !== undefined && got > expected) {
            retryable = false
            await reader.cancel().catch(() => undefined)
            throw new RemoteJobError(
              'MALFORMED_RESPONSE',
              `output ${url} sent more than the ${expected} bytes its value announced`,
              { url },
            )
          }
        }
      }
      if (expected !== undefined && got !== expected) {
        throw new RemoteJobError(
          'NETWORK',
          `output ${url} ended after ${got} of ${expected} bytes (connection cut?)`,
          { url },
        )
      }
      return
    } catch (error) {
      const ended = scope.endError('output download')
      if (ended) throw ended
      failure =
        error instanceof RemoteJobError
          ? error
          : new RemoteJobError(
              'NETWORK',
              `output ${url} failed after ${got} bytes: ${idle.signal.aborted ? `no data for ${options.requestTimeout} ms` : error instanceof Error ? error.message : String(error)}`,
              { url, cause: error },
            )
    } finally {
      clearTimeout(timer)
    }
    if (!retryable || tryNo >= options.retry.retries) throw failure
    try {
      await sleep(Math.min(backoffDelay(options.retry, tryNo), scope.remaining()), scope.signal)
    } catch {
      throw scope.endError('output download') ?? failure
    }
  }
}

/** Absolute URL of a ref: http(s) URLs as they are, anything else relative to the endpoint base. */
export function refUrl(core: Core, ref: string): string {
  if (!/^[a-z][a-z0-9+.-]*:/i.test(ref)) return joinUrl(core.options.url, ref)
  let url: URL
  try {
    url = new URL(ref)
  } catch (cause) {
    throw new RemoteJobError(
      'MALFORMED_RESPONSE',
      `the worker sent an output ref that is not a URL: "${ref}"`,
      {
        cause,
      },
    )
  }
  // the endpoint's own origin, or https elsewhere (e.g. a signed storage URL); never plain http to
  // another host: a hostile endpoint must not make this machine fetch its local network
  if (url.origin !== core.options.url.origin && url.protocol !== 'https:') {
    throw new RemoteJobError(
      'MALFORMED_RESPONSE',
      `the worker sent an output ref on another origin over ${url.protocol} ("${ref}"); refs must be relative to the endpoint, on its origin, or https`,
      { url: url.href },
    )
  }
  return url.href
}

/** The envelope with `swap` applied to every value sent by reference (also inside object/list values). */
function mapRefs(env: JobEnvelope, swap: (v: EncodedValue & { ref: string }) => unknown): JobEnvelope {
  const replace = (v: unknown): unknown => {
    if (isRefValue(v)) return swap(v)
    if (typeof v !== 'object' || v === null) return v
    const ev = v as EncodedValue
    if (
      ev.encoding === 'object' &&
      typeof ev.data === 'object' &&
      ev.data !== null &&
      !Array.isArray(ev.data)
    )
      return { ...ev, data: Object.fromEntries(Object.entries(ev.data).map(([k, x]) => [k, replace(x)])) }
    if (ev.encoding === 'list' && Array.isArray(ev.data)) return { ...ev, data: ev.data.map(replace) }
    return v
  }
  const out: JobEnvelope = { ...env }
  if (env.outputs)
    out.outputs = Object.fromEntries(
      Object.entries(env.outputs).map(([k, v]) => [k, replace(v) as EncodedValue]),
    )
  if (env.result) out.result = replace(env.result) as EncodedValue
  return out
}

/**
 * The envelope with every ref made an absolute URL, checked like the refs `resolveRefs` fetches (the
 * endpoint's origin, or https): for a caller that downloads the bytes itself (`keepRefs`).
 */
export function absoluteRefs(core: Core, env: JobEnvelope): JobEnvelope {
  return mapRefs(env, (v) => ({ ...v, ref: refUrl(core, v.ref) }))
}

/**
 * Replaces every value the worker sent by reference (`{ref, bytes}`, also inside object/list values)
 * by an ordinary value: `data` = the bytes (memory), or `{file: path}` when `files` is given. A ref
 * that result and an output share is fetched once.
 */
export async function resolveRefs(
  core: Core,
  env: JobEnvelope,
  scope: CallScope,
  files?: OutputFiles,
): Promise<JobEnvelope> {
  const fetched = new Map<string, unknown>()
  const pending: Array<{ ref: string; value: EncodedValue & { ref: string }; name: string }> = []
  const collect = (v: unknown, name: string): void => {
    if (isRefValue(v)) {
      pending.push({ ref: v.ref, value: v, name })
      return
    }
    if (typeof v !== 'object' || v === null) return
    const data = (v as EncodedValue).data
    if ((v as EncodedValue).encoding === 'object' && typeof data === 'object' && data !== null)
      for (const [k, x] of Object.entries(data)) collect(x, `${name}.${k}`)
    if ((v as EncodedValue).encoding === 'list' && Array.isArray(data))
      for (const [i, x] of data.entries()) collect(x, `${name}.${i}`)
  }
  for (const [name, v] of Object.entries(env.outputs ?? {})) collect(v, name)
  if (env.result) collect(env.result, 'result')
  if (pending.length === 0) return env
  for (const { ref, value, name } of pending) {
    if (fetched.has(ref)) continue
    const expected =
      typeof value.bytes === 'number' && Number.isSafeInteger(value.bytes) ? value.bytes : undefined
    const sink = files
      ? await fileSink(files.dir, `${files.prefix ?? 'out-'}${safeStem(name)}`, extensionFor(value))
      : memorySink(expected)
    try {
      await download(core, refUrl(core, ref), expected, sink, scope)
      fetched.set(ref, await sink.finish())
    } catch (error) {
      await sink.abandon()
      throw error
    }
  }
  return mapRefs(env, (v) => {
    const { ref, bytes: _bytes, ...rest } = v
    return { ...rest, data: fetched.get(ref) }
  })
}
