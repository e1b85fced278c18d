import type { JobEnvelope } from '@comfy-remote/protocol'
import {
  ACCEPT_MULTIPART,
  decodeMultipart,
  isMultipartContentType,
  isProtocolError,
  parseEnvelope,
} from '@comfy-remote/protocol'
import { createFetch } from 'ofetch'
import { chunkStream, type RequestBody } from './body.js'
import { codeForStatus, RemoteJobError } from './errors.js'
import { readMultipartSpooled } from './multipart-stream.js'
import { nodeUpload } from './node-upload.js'
import type { ResolvedOptions } from './options.js'
import type { OutputFiles } from './refs.js'
import { backoffDelay, parseRetryAfter, RETRYABLE_STATUSES, sleep } from './retry.js'
import type { CallScope } from './scope.js'

export { ACCEPT_MULTIPART }
export const ACCEPT_JSON = 'application/json'

const isNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string'

export interface HttpRequest {
  method: 'GET' | 'POST' | 'DELETE'
  url: string
  body?: RequestBody
  /** Bytes of the body, when known. */
  bodyLength?: number
  headers?: Record<string, string>
  /** Extra ms allowed for this request on top of requestTimeout (long-polls, ?wait=). */
  extraTime?: number
  /** Retries allowed; Infinity = until the call's deadline. */
  retries: number
  /** What the request is, for error messages ("submit", "poll"). */
  what: string
  /** A multipart answer streams its large binary parts into files there (`data: {file}`). */
  spool?: OutputFiles
}

export interface HttpReply {
  status: number
  headers: Headers
  /** Parsed body: an object (JSON or multipart message), `{}` for an empty body. */
  data: Record<string, unknown>
  url: string
}

type Attempt =
  | { ok: true; reply: HttpReply }
  | { ok: false; error: RemoteJobError; retryable: boolean; retryAfter?: number }

export interface RawInit {
  method?: HttpRequest['method']
  headers: Record<string, string>
  body?: string | AsyncIterable<Uint8Array>
  signal: AbortSignal
  /** Bytes of a streamed body, when known (sent as Content-Length). */
  length?: number
}

export interface Http {
  /** One fetch that leaves the body unread, answers HTTP errors as responses and never retries. */
  raw(url: string, init: RawInit): Promise<Response>
  /** The client's headers plus `extra`; the token only goes to the endpoint's own origin. */
  headersFor(url: string, extra?: Record<string, string>): Record<string, string>
  send(request: HttpRequest, scope: CallScope): Promise<HttpReply>
  /** One attempt with a streamed response body (SSE); no retries. */
  stream(url: string, headers: Record<string, string>, signal: AbortSignal): Promise<Response>
}

function excerpt(text: string): string {
  const flat = text
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
  return flat.length > 200 ? `${flat.slice(0, 200)}...` : flat
}

/** The declared length of an unencoded body, when it is a plain byte count. */
function declaredLength(response: Response): number | undefined {
  const encoding = response.headers.get('content-encoding')
  if (encoding !== null && encoding.toLowerCase() !== 'identity') return undefined
  const raw = response.headers.get('content-length')
  if (raw === null || !/^[0-9]{1,15}$/.test(raw.trim())) return undefined
  return Number(raw)
}

/**
 * Reads a body of a declared length straight into one buffer of that size, chunk by chunk: peak
 * memory is the body plus one chunk (`arrayBuffer()` holds every chunk and then their concatenation,
 * twice the body). More bytes than declared: the rest is appended (one more copy, never lost).
 */
export async function readDeclared(body: ReadableStream<Uint8Array>, length: number): Promise<Uint8Array> {
  let out = new Uint8Array(length)
  let offset = 0
  const reader = body.getReader()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    if (offset + value.byteLength > out.byteLength) {
      const grown = new Uint8Array(Math.max(out.byteLength * 2, offset + value.byteLength))
      grown.set(out.subarray(0, offset))
      out = grown
    }
    out.set(value, offset)
    offset += value.byteLength
  }
  return offset === out.byteLength ? out : out.subarray(0, offset)
}

/**
 * Reads a response body once: multipart as bytes (values become views into them; read into one
 * buffer of the declared length when there is one), anything else as text (no intermediate byte copy
 * next to the string).
 */
export async function readBody(response: Response): Promise<Uint8Array | string> {
  if (isMultipartContentType(response.headers.get('content-type'))) {
    const length = declaredLength(response)
    if (length !== undefined && response.body !== null) return readDeclared(response.body, length)
    return new Uint8Array(await response.arrayBuffer())
  }
  return await response.text()
}

/** Parses a response body into an object; throws MALFORMED_RESPONSE for anything else. */
export function parseBody(
  body: Uint8Array | string,
  contentType: string,
  url: string,
  status: number,
): Record<string, unknown> {
  if (isMultipartContentType(contentType) && typeof body !== 'string') {
    const message = decodeMultipart(body, contentType) as unknown
    if (typeof message === 'object' && message !== null && !Array.isArray(message))
      return message as Record<string, unknown>
    throw new RemoteJobError(
      'MALFORMED_RESPONSE',
      `${url} answered a multipart body without a JSON object part`,
      { status, url },
    )
  }
  const text = typeof body === 'string' ? body : new TextDecoder().decode(body)
  if (text.trim() === '') return {}
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (cause) {
    throw new RemoteJobError(
      'MALFORMED_RESPONSE',
      `${url} answered HTTP ${status} with a body that is not JSON: "${excerpt(text)}"; check the URL points at a comfy-remote endpoint`,
      { status, url, cause },
    )
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new RemoteJobError(
      'MALFORMED_RESPONSE',
      `${url} answered HTTP ${status} with JSON that is not an object: "${excerpt(text)}"`,
      { status, url },
    )
  }
  return value as Record<string, unknown>
}

export function httpError(
  status: number,
  body: Uint8Array | string,
  contentType: string,
  url: string,
  what: string,
): RemoteJobError {
  let envelope: JobEnvelope | undefined
  let detail = ''
  try {
    const data = parseBody(body, contentType, url, status)
    envelope = parseEnvelope(data, url)
    detail = envelope.error?.message ?? envelope.message ?? ''
  } catch {
    detail = excerpt(
      typeof body === 'string' ? body.slice(0, 4096) : new TextDecoder().decode(body.subarray(0, 4096)),
    )
  }
  const code = codeForStatus(status)
  const hint =
    code === 'UNAUTHORIZED'
      ? '; pass the right token (option `token`, CLI --token or COMFY_REMOTE_TOKEN)'
      : code === 'NOT_FOUND'
        ? '; check the endpoint URL and the job id'
        : ''
  const failedJob = envelope?.jobId !== undefined && envelope.status === 'failed' && code === 'HTTP_ERROR'
  return new RemoteJobError(
    failedJob ? 'FAILED' : code,
    `${what} ${url} failed with HTTP ${status}${detail ? `: ${detail}` : ''}${hint}`,
    {
      status,
      url,
      ...(envelope ? { envelope } : {}),
    },
  )
}

export function createHttp(options: ResolvedOptions): Http {
  const $fetch = options.fetch ? createFetch({ fetch: options.fetch }) : createFetch()

  function raw(url: string, init: RawInit): Promise<Response> {
    const { length, body, ...rest } = init
    if (body === undefined || typeof body === 'string')
      return $fetch.raw(url, {
        ...rest,
        body,
        responseType: 'stream',
        ignoreResponseError: true,
        retry: false,
      })
    // streamed bodies go through node:http in Node (backpressure: bounded memory), unless a fetch was given
    if (options.fetch === undefined && isNode) {
      return nodeUpload(url, {
        method: init.method ?? 'POST',
        headers: init.headers,
        body,
        signal: init.signal,
        ...(length === undefined ? {} : { length }),
      })
    }
    return $fetch.raw(url, {
      ...rest,
      body: chunkStream(body),
      responseType: 'stream',
      ignoreResponseError: true,
      retry: false,
    })
  }

  /** The token only goes to the endpoint's own origin (a poll_url may point elsewhere). */
  function headersFor(url: string, extra: Record<string, string> = {}): Record<string, string> {
    const headers = { ...options.headers, ...extra }
    if (new URL(url).origin !== options.url.origin) {
      for (const key of Object.keys(headers)) if (key.toLowerCase() === 'authorization') delete headers[key]
    }
    return headers
  }

  async function attempt(request: HttpRequest, scope: CallScope): Promise<Attempt> {
    const budget = options.requestTimeout + (request.extraTime ?? 0)
    // the answer must start within budget; a body streamed to files may take longer while bytes flow
    const slow = new AbortController()
    let timer = setTimeout(() => slow.abort(), budget)
    const bump = () => {
      clearTimeout(timer)
      timer = setTimeout(() => slow.abort(), options.requestTimeout)
    }
    const signal = AbortSignal.any([scope.signal, slow.signal])
    let response: Response
    let body: Uint8Array | string | undefined
    let spooled: Record<string, unknown> | undefined
    try {
      response = await raw(request.url, {
        method: request.method,
        headers: headersFor(request.url, request.headers),
        ...(request.body === undefined
          ? {}
          : { body: typeof request.body === 'function' ? request.body() : request.body }),
        ...(request.bodyLength === undefined ? {} : { length: request.bodyLength }),
        signal,
      })
      const stream = (response as Response & { _data?: ReadableStream<Uint8Array> })._data ?? response.body
      const type = response.headers.get('content-type')
      if (request.spool && response.status < 400 && isMultipartContentType(type) && stream) {
        try {
          spooled = await readMultipartSpooled(stream, type ?? '', request.spool, bump)
        } catch (error) {
          if (!isProtocolError(error)) throw error
          const malformed = new RemoteJobError(
            'MALFORMED_RESPONSE',
            `${request.what} ${request.url}: ${error.message}`,
            { url: request.url, status: response.status, cause: error },
          )
          return { ok: false, error: malformed, retryable: true }
        }
      } else body = await readBody(response)
    } catch (cause) {
      const ended = scope.endError(request.what)
      if (ended) throw ended
      const why = slow.signal.aborted
        ? `no answer within ${budget} ms`
        : cause instanceof Error
          ? cause.cause instanceof Error
            ? cause.cause.message
            : cause.message
          : String(cause)
      const error = new RemoteJobError(
        'NETWORK',
        `${request.what} ${request.url} failed: ${why}; check the server is up and reachable`,
        { url: request.url, cause },
      )
      return { ok: false, error, retryable: true }
    } finally {
      clearTimeout(timer)
    }
    if (spooled !== undefined) {
      return {
        ok: true,
        reply: { status: response.status, headers: response.headers, data: spooled, url: request.url },
      }
    }
    const text = body ?? ''
    const contentType = response.headers.get('content-type') ?? ''
    if (response.status >= 400) {
      const error = httpError(response.status, text, contentType, request.url, request.what)
      const retryAfter = parseRetryAfter(response.headers.get('retry-after'))
      return {
        ok: false,
        error,
        retryable: RETRYABLE_STATUSES.has(response.status),
        ...(retryAfter === undefined ? {} : { retryAfter }),
      }
    }
    try {
      const data = parseBody(text, contentType, request.url, response.status)
      return {
        ok: true,
        reply: { status: response.status, headers: response.headers, data, url: request.url },
      }
    } catch (error) {
      // A garbled 2xx body may be a proxy glitch: retry a few times (idempotent requests only).
      return { ok: false, error: error as RemoteJobError, retryable: true }
    }
  }

  async function send(request: HttpRequest, scope: CallScope): Promise<HttpReply> {
    let malformed = 0
    for (let tryNo = 0; ; tryNo++) {
      const result = await attempt(request, scope)
      if (result.ok) return result.reply
      const { error } = result
      if (error.code === 'MALFORMED_RESPONSE') malformed++
      const limit =
        error.code === 'MALFORMED_RESPONSE'
          ? Math.min(request.retries, options.retry.retries)
          : request.retries
      const count = error.code === 'MALFORMED_RESPONSE' ? malformed : tryNo + 1
      if (!result.retryable || count > limit) throw error
      let delay = backoffDelay(options.retry, tryNo)
      if (result.retryAfter !== undefined) delay = Math.min(result.retryAfter, options.retry.maxRetryAfter)
      if (delay >= scope.remaining()) {
        await sleep(scope.remaining(), scope.signal).catch(() => undefined)
        throw scope.endError(request.what) ?? error
      }
      try {
        await sleep(delay, scope.signal)
      } catch {
        throw scope.endError(request.what) ?? error
      }
    }
  }

  async function stream(
    url: string,
    headers: Record<string, string>,
    signal: AbortSignal,
  ): Promise<Response> {
    return await raw(url, { method: 'GET', headers: { ...options.headers, ...headers }, signal })
  }

  return { raw, headersFor, send, stream }
}
