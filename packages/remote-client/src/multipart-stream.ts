import { attachParts, multipartBoundary, ProtocolError, parsePartHead } from '@comfy-remote/protocol'
import { extensionFor } from './media-types.js'
import { fileSink, memorySink, type OutputFiles, type Sink, safeStem } from './refs.js'

/** Binary parts at least this large go to files (smaller ones stay in memory). */
export const SPOOL_MIN_BYTES = 1024 * 1024
const MAX_HEADER_BYTES = 16 * 1024
const CRLF2 = Buffer.from('\r\n\r\n')

function invalid(message: string): ProtocolError {
  return new ProtocolError('MULTIPART_INVALID', `Malformed multipart body: ${message}`, { field: 'body' })
}

/** Output name and value of every `{part}` reference in a message, by part name (for file names). */
function partOwners(message: unknown): Map<string, { name: string; value: Record<string, unknown> }> {
  const owners = new Map<string, { name: string; value: Record<string, unknown> }>()
  const walk = (v: unknown, name: string): void => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return
    const value = v as Record<string, unknown>
    const data = value.data as Record<string, unknown> | undefined
    if (typeof data === 'object' && data !== null && typeof data.part === 'string') {
      if (!owners.has(data.part)) owners.set(data.part, { name, value })
      return
    }
    if (value.encoding === 'object' && typeof data === 'object' && data !== null)
      for (const [k, x] of Object.entries(data)) walk(x, `${name}.${k}`)
    if (value.encoding === 'list' && Array.isArray(data))
      for (const [i, x] of data.entries()) walk(x, `${name}.${i}`)
  }
  const m = message as { outputs?: Record<string, unknown>; result?: unknown }
  for (const [name, v] of Object.entries(m?.outputs ?? {})) walk(v, name)
  walk(m?.result, 'result')
  return owners
}

/**
 * Reads a multipart message from a stream without holding it: the `json` part in memory, every binary
 * part of at least SPOOL_MIN_BYTES (by its Content-Length) streamed into a new file in `files.dir`
 * (named after the output that refers to it), smaller parts in memory. Returns the message with each
 * `{part}` replaced by the bytes or `{file: path}`. On any error the files it created are removed.
 */
export async function readMultipartSpooled(
  stream: ReadableStream<Uint8Array>,
  contentType: string,
  files: OutputFiles,
  onChunk: () => void = () => {},
): Promise<Record<string, unknown>> {
  const delimiter = Buffer.from(`\r\n--${multipartBoundary(contentType)}`)
  const reader = stream.getReader()
  let buf: Buffer = Buffer.from('\r\n') // the first boundary then matches the delimiter too
  const more = async (): Promise<boolean> => {
    const r = await reader.read()
    if (r.done) return false
    onChunk()
    const chunk = Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength)
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk])
    return true
  }
  const need = async (n: number, what: string): Promise<void> => {
    while (buf.length < n) if (!(await more())) throw invalid(`truncated ${what}.`)
  }
  const sinks: Sink[] = []
  const parts = new Map<string, unknown>()
  let message: Record<string, unknown> | undefined
  let owners = new Map<string, { name: string; value: Record<string, unknown> }>()
  try {
    for (;;) {
      const i = buf.indexOf(delimiter)
      if (i >= 0) {
        buf = buf.subarray(i + delimiter.length)
        break
      }
      buf = buf.subarray(Math.max(0, buf.length - delimiter.length + 1))
      if (!(await more())) throw invalid('the boundary was not found.')
    }
    for (;;) {
      await need(2, 'body after a boundary')
      if (buf[0] === 45 && buf[1] === 45) break // "--": the close delimiter
      let headerEnd = buf.indexOf(CRLF2)
      while (headerEnd < 0) {
        if (buf.length > MAX_HEADER_BYTES) throw invalid('part headers longer than 16 KiB.')
        if (!(await more())) throw invalid('a part has no header terminator.')
        headerEnd = buf.indexOf(CRLF2)
      }
      const head = buf.subarray(0, headerEnd).toString('latin1')
      const {
        part: { name },
        length,
      } = parsePartHead(head.slice(head.indexOf('\r\n') + 2))
      buf = buf.subarray(headerEnd + 4)
      const owner = owners.get(name)
      const toFile = name !== 'json' && length !== undefined && length >= SPOOL_MIN_BYTES
      const sink = toFile
        ? await fileSink(
            files.dir,
            `${files.prefix ?? 'out-'}${owner ? safeStem(owner.name) : `part-${safeStem(name)}`}`,
            owner ? extensionFor(owner.value) : 'bin',
          )
        : memorySink(length)
      sinks.push(sink)
      if (length !== undefined) {
        let remaining = length
        while (remaining > 0) {
          if (buf.length === 0 && !(await more())) throw invalid(`part "${name}" is truncated.`)
          const take = Math.min(remaining, buf.length)
          await sink.write(buf.subarray(0, take))
          buf = buf.subarray(take)
          remaining -= take
        }
        await need(delimiter.length, `part "${name}"`)
        if (!buf.subarray(0, delimiter.length).equals(delimiter))
          throw invalid(`part "${name}" is not followed by the boundary after its Content-Length.`)
        buf = buf.subarray(delimiter.length)
      } else {
        for (;;) {
          const i = buf.indexOf(delimiter)
          if (i >= 0) {
            await sink.write(buf.subarray(0, i))
            buf = buf.subarray(i + delimiter.length)
            break
          }
          const safe = buf.length - delimiter.length + 1
          if (safe > 0) {
            await sink.write(buf.subarray(0, safe))
            buf = buf.subarray(safe)
          }
          if (!(await more())) throw invalid(`the closing boundary of part "${name}" is missing.`)
        }
      }
      const data = await sink.finish()
      if (name === 'json') {
        try {
          message = JSON.parse(new TextDecoder().decode(data as Uint8Array)) as Record<string, unknown>
        } catch (cause) {
          throw new ProtocolError('MULTIPART_INVALID', 'The "json" part is not valid JSON.', {
            field: 'json',
            cause,
          })
        }
        owners = partOwners(message)
      } else parts.set(name, data)
    }
    if (typeof message !== 'object' || message === null || Array.isArray(message))
      throw invalid('no part named "json" holding a JSON object.')
    attachParts(message, parts)
    return message
  } catch (error) {
    await reader.cancel().catch(() => undefined)
    for (const sink of sinks) await sink.abandon().catch(() => undefined)
    throw error
  }
}
