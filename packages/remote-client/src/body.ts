import type { EncodedValue } from '@comfy-remote/protocol'
import { encodeMultipartChunks, serializeJson } from '@comfy-remote/protocol'
import { RemoteJobError } from './errors.js'

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

/** A request body: a string, or a factory of a fresh stream (a retry re-sends the same bytes). */
export type RequestBody = string | (() => ReadableStream<Uint8Array>)

export interface EncodedBody {
  body: RequestBody
  contentType: string
}

/** Streams the chunks in order; the payload bytes are the caller's own (no copy). */
function chunkStream(chunks: readonly Uint8Array[]): ReadableStream<Uint8Array> {
  let index = 0
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const chunk = chunks[index++]
      if (chunk === undefined) controller.close()
      else controller.enqueue(chunk)
    },
  })
}

/** Serialises a message for the wire: streamed multipart (binary parts) or JSON (base64). */
export function encodeBody(message: Record<string, unknown>, multipart: boolean): EncodedBody {
  if (multipart) {
    const { chunks, contentType } = encodeMultipartChunks(message)
    return { body: () => chunkStream(chunks), contentType }
  }
  return { body: serializeJson(message), contentType: 'application/json' }
}
