import type { IncomingHttpHeaders } from 'node:http'
import type { Readable } from 'node:stream'
import { attachParts, JSON_PART_NAME, ProtocolError } from '@comfy-remote/protocol'
import { Busboy, type BusboyFileStream } from '@fastify/busboy'
import { errorCodes } from 'fastify'
import type { FileBytes } from './file-bytes.js'
import type { JobSpool } from './spool.js'

export interface StreamLimits {
  /** Whole multipart body, in bytes. */
  bodyLimit: number
  /** The `json` part (the message without its binary payloads), in bytes. */
  jsonLimit: number
  /** Parts up to this size stay in memory; larger ones are written to the spool. */
  memoryThreshold: number
}

function invalid(message: string): ProtocolError {
  return new ProtocolError('MULTIPART_INVALID', `Malformed multipart body: ${message}`, { field: 'body' })
}

/** Reads one part: in memory while small, then (the rest streamed) into a spool file. */
function readPart(
  stream: BusboyFileStream,
  name: string,
  spool: JobSpool,
  threshold: number,
): Promise<Uint8Array | FileBytes> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk)
      size += chunk.byteLength
      if (size <= threshold) return
      stream.off('data', onData)
      stream.off('end', onEnd)
      stream.pause()
      spool.write(stream, name, chunks.splice(0)).then(resolve, reject)
    }
    const onEnd = (): void =>
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size))
    stream.on('data', onData)
    stream.once('end', onEnd)
    stream.once('error', reject)
  })
}

function readJsonPart(stream: BusboyFileStream, limit: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    stream.on('data', (chunk: Buffer) => {
      size += chunk.byteLength
      if (size > limit) {
        stream.resume()
        stream.removeAllListeners('data')
        reject(
          new ProtocolError(
            'MULTIPART_INVALID',
            `The "json" part is larger than ${limit} bytes; move binary payloads into their own parts ({"part": name}).`,
            { field: 'json' },
          ),
        )
        return
      }
      chunks.push(chunk)
    })
    stream.once('error', reject)
    stream.once('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks, size).toString('utf8')))
      } catch (cause) {
        reject(
          new ProtocolError('MULTIPART_INVALID', 'The "json" part is not valid JSON.', {
            field: 'json',
            cause,
          }),
        )
      }
    })
  })
}

/**
 * Parses a multipart/form-data request body as it arrives (busboy): the `json` part in memory, small
 * binary parts in memory, large ones streamed into `spool` files, then puts every `{"part": name}`
 * back as a Uint8Array or a FileBytes. Memory stays bounded by the threshold per part whatever the
 * payload size. On any failure (malformed body, limit, client gone) the caller disposes the spool.
 */
export function parseMultipartStream(
  payload: Readable,
  headers: IncomingHttpHeaders,
  spool: JobSpool,
  limits: StreamLimits,
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let done = false
    const streams = new Set<BusboyFileStream>()
    const fail = (error: unknown): void => {
      if (done) return
      done = true
      payload.unpipe(parser)
      payload.resume() // drain: answer 413/400 without reading into memory
      parser.destroy()
      // stop every part still being read: its spool file is removed before we answer
      for (const stream of streams) stream.destroy(error instanceof Error ? error : new Error(String(error)))
      Promise.allSettled(parts.values()).then(() => reject(error))
    }
    let parser: ReturnType<typeof Busboy>
    try {
      parser = Busboy({
        headers: headers as IncomingHttpHeaders & { 'content-type': string },
        isPartAFile: () => true,
        limits: { fileSize: limits.bodyLimit, parts: 10_000, headerPairs: 32 },
      })
    } catch (cause) {
      reject(invalid(cause instanceof Error ? cause.message : String(cause)))
      return
    }
    const parts = new Map<string, Promise<Uint8Array | FileBytes>>()
    let json: Promise<unknown> | undefined
    parser.on('file', (name: string, stream: BusboyFileStream) => {
      if (done) {
        stream.resume()
        return
      }
      streams.add(stream)
      // busboy emits a truncated part's error on the part stream, and `fail` destroys it with the
      // error again: the readers' `once('error')` takes the first; without this the second one is
      // an unhandled 'error' event that ends the process (one unterminated request = worker down).
      stream.on('error', () => {})
      stream.once('close', () => streams.delete(stream))
      stream.once('end', () => streams.delete(stream))
      if (name === JSON_PART_NAME) {
        json = readJsonPart(stream, limits.jsonLimit)
        json.catch(fail)
        return
      }
      if (parts.has(name)) {
        stream.resume()
        fail(invalid(`two parts are named "${name}".`))
        return
      }
      const part = readPart(stream, name, spool, limits.memoryThreshold)
      part.catch(fail)
      parts.set(name, part)
    })
    parser.on('error', (error: unknown) =>
      fail(invalid(error instanceof Error ? error.message : String(error))),
    )
    parser.on('partsLimit', () => fail(invalid('more than 10000 parts.')))
    parser.on('finish', () => {
      if (done) return
      if (json === undefined) {
        fail(invalid(`no part named "${JSON_PART_NAME}" holding the JSON message.`))
        return
      }
      Promise.all([json, ...parts.values()])
        .then(async ([message]) => {
          const byName = new Map<string, Uint8Array | FileBytes>()
          for (const [name, part] of parts) byName.set(name, await part)
          attachParts(message, byName)
          if (done) return
          done = true
          resolve(message)
        })
        .catch(fail)
    })
    let received = 0
    const declared = Number(headers['content-length'])
    if (declared > limits.bodyLimit) {
      fail(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE())
      return
    }
    payload.on('data', (chunk: Buffer) => {
      received += chunk.byteLength
      if (received > limits.bodyLimit) fail(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE())
    })
    const gone = (): void => {
      const error = new Error('The client closed the connection before the request body ended.') as Error & {
        statusCode: number
      }
      error.statusCode = 400
      fail(error)
    }
    payload.once('error', gone)
    payload.once('aborted', gone)
    payload.once('close', () => {
      if (!payload.readableEnded) gone()
    })
    payload.pipe(parser)
  })
}
