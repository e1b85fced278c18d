import type { FileHandle } from 'node:fs/promises'
import type { EncodedValue, MultipartPiece } from '@comfy-remote/protocol'
import { encodeMultipartPieces, serializeJson } from '@comfy-remote/protocol'
import { RemoteJobError } from './errors.js'
import { filePathOf } from './file-blob.js'

/** The original Remote API request shape (list inputs), accepted by `run`/`submit` as is. */
export interface OriginalRunRequest {
  inputs: Array<Record<string, unknown> & { name: string }>
  input_order?: string[]
  node?: { id: string; name?: string }
  workflow?: unknown
  extra_pnginfo?: unknown
  [key: string]: unknown
}

/** What `run`/`submit` accept: a `{name: EncodedValue}` map, or a whole request body (v1 or original). */
export type RunInputs =
  | Record<string, EncodedValue>
  | OriginalRunRequest
  | { inputs: Record<string, EncodedValue>; request_id?: string }

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** True when `inputs` is a whole request body rather than a `{name: value}` map. */
export function isRequestBody(inputs: Record<string, unknown>): boolean {
  const inner = inputs.inputs
  if (Array.isArray(inner)) return true
  // A Remote Input may be named "inputs": then `inputs.inputs` is an encoded value, not a map.
  return (
    isObject(inner) &&
    !('encoding' in inner) &&
    Object.values(inner).every((v) => isObject(v) && 'encoding' in v)
  )
}

/** Builds the request message: `{inputs, request_id}` for a map, the body itself otherwise. */
export function buildMessage(inputs: RunInputs, requestId: string): Record<string, unknown> {
  if (!isObject(inputs)) {
    throw new RemoteJobError(
      'BAD_OPTIONS',
      `run: \`inputs\` must be an object mapping input names to encoded values (got ${Array.isArray(inputs) ? 'an array' : typeof inputs})`,
    )
  }
  if (isRequestBody(inputs)) return { request_id: requestId, ...inputs }
  for (const [name, value] of Object.entries(inputs)) {
    if (!isObject(value) || typeof value.encoding !== 'string' || !('data' in value || 'ref' in value)) {
      throw new RemoteJobError(
        'BAD_OPTIONS',
        `run: input \`${name}\` must be an encoded value {type, encoding, data} (see @comfy-remote/protocol encodeValue)`,
      )
    }
  }
  return { inputs, request_id: requestId }
}

/**
 * A request body: a string, or a factory of a fresh sequence of chunks (a retry re-sends the same
 * bytes). Node sends the chunks with node:http as they come (`nodeUpload`); fetch gets them as a stream.
 */
export type RequestBody = string | (() => AsyncIterable<Uint8Array>)

export interface EncodedBody {
  body: RequestBody
  contentType: string
  /** Bytes of the body. */
  byteLength: number
}

const isBlob = (value: unknown): value is Blob => typeof Blob !== 'undefined' && value instanceof Blob

/**
 * The pieces in order: in-memory bytes are the caller's own (no copy), Blobs (files) are read chunk by
 * chunk as the socket drains, so a file payload is never held whole. Plain async iteration: web
 * streams in between cost the bridge twice the CPU of the upload itself.
 */
async function* pieceChunks(pieces: readonly MultipartPiece[]): AsyncGenerator<Uint8Array> {
  for (const piece of pieces) {
    if (isBlob(piece)) yield* blobChunks(piece)
    else yield piece
  }
}

/** Blob reads in this size: `blob.stream()` gives 64 KiB chunks, 2-3x slower for a file of many MiB. */
const BLOB_CHUNK_BYTES = 2 * 1024 * 1024

/**
 * A Blob's bytes as (at most) 2 MiB chunks, each read when the consumer asks: read from its file when
 * `openFileBlob` made it (much faster in Node 20), else with `slice().arrayBuffer()`.
 */
async function* blobChunks(blob: Blob): AsyncGenerator<Uint8Array> {
  const path = filePathOf(blob)
  if (path === undefined) {
    for (let at = 0; at < blob.size; at += BLOB_CHUNK_BYTES)
      yield new Uint8Array(await blob.slice(at, Math.min(blob.size, at + BLOB_CHUNK_BYTES)).arrayBuffer())
    return
  }
  const file: FileHandle = await (await import('node:fs/promises')).open(path, 'r')
  try {
    for (let at = 0; at < blob.size; ) {
      // not zero-filled: every byte is read into it; each chunk is new (the socket may still hold the last)
      const chunk = Buffer.allocUnsafeSlow(Math.min(BLOB_CHUNK_BYTES, blob.size - at))
      const { bytesRead } = await file.read(chunk, 0, chunk.byteLength, at)
      if (bytesRead !== chunk.byteLength) {
        throw new RemoteJobError(
          'BAD_OPTIONS',
          `${path} changed while it was sent (shorter than its ${blob.size} bytes)`,
        )
      }
      at += bytesRead
      yield chunk
    }
  } finally {
    await file.close()
  }
}

/** The chunks as a web stream (for fetch: browsers, or a `fetch` given in the options). */
export function chunkStream(chunks: AsyncIterable<Uint8Array>): ReadableStream<Uint8Array> {
  const it = chunks[Symbol.asyncIterator]()
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await it.next()
      if (done) controller.close()
      else controller.enqueue(value)
    },
    async cancel() {
      await it.return?.()
    },
  })
}

/** A copy of the message with every Blob `data` read into bytes (the JSON transport needs them inline). */
async function inlineBlobs(node: unknown): Promise<unknown> {
  if (isBlob(node)) return new Uint8Array(await node.arrayBuffer())
  if (Array.isArray(node)) return Promise.all(node.map(inlineBlobs))
  if (typeof node !== 'object' || node === null || ArrayBuffer.isView(node)) return node
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(node)) out[key] = await inlineBlobs(value)
  return out
}

/** Serialises a message for the wire: streamed multipart (binary parts, Blobs streamed) or JSON (base64). */
export async function encodeBody(message: Record<string, unknown>, multipart: boolean): Promise<EncodedBody> {
  if (multipart) {
    const { pieces, contentType, byteLength } = encodeMultipartPieces(message)
    return { body: () => pieceChunks(pieces), contentType, byteLength }
  }
  const text = serializeJson(await inlineBlobs(message))
  return { body: text, contentType: 'application/json', byteLength: text.length }
}
