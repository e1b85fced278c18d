// Small HTTP helpers of the conformance suite: every request bounded in time, auth added when the target
// has a token, bodies read as JSON envelopes (or multipart), SSE streams split into events.
import { request as httpRequest } from 'node:http'
import { decodeMultipart, encodeMultipart } from '@comfy-remote/protocol'
import type { Target } from './target.js'

export interface Reply {
  status: number
  headers: Headers
  /** Parsed JSON (or the decoded multipart message); undefined when the body is not JSON. */
  body: Record<string, unknown>
  text: string
  /** The body as received. */
  bytes: Uint8Array
}

export interface Call {
  method?: string
  /** JSON value (sent as application/json) or a raw body with its content type. */
  json?: unknown
  raw?: { body: Uint8Array | string; contentType: string }
  headers?: Record<string, string>
  /** false: send no Authorization header; a string: send that header value. */
  auth?: boolean | string
  timeoutMs?: number
}

export function authHeader(target: Target, auth: boolean | string | undefined): Record<string, string> {
  if (typeof auth === 'string') return { authorization: auth }
  if (auth === false || target.token === undefined) return {}
  return { authorization: `Bearer ${target.token}` }
}

export async function call(target: Target, path: string, options: Call = {}): Promise<Reply> {
  const headers: Record<string, string> = { ...authHeader(target, options.auth), ...options.headers }
  let body: Uint8Array | string | undefined
  if (options.json !== undefined) {
    body = JSON.stringify(options.json)
    headers['content-type'] ??= 'application/json'
  } else if (options.raw !== undefined) {
    body = options.raw.body
    headers['content-type'] = options.raw.contentType
  }
  const res = await fetch(`${target.url}${path}`, {
    method: options.method ?? (body === undefined ? 'GET' : 'POST'),
    headers,
    ...(body !== undefined && { body: body as BodyInit }),
    signal: AbortSignal.timeout(options.timeoutMs ?? 45_000),
  })
  const bytes = new Uint8Array(await res.arrayBuffer())
  const type = res.headers.get('content-type') ?? ''
  const text = type.startsWith('multipart/') ? '' : new TextDecoder().decode(bytes)
  let parsed: Record<string, unknown> = {}
  if (type.startsWith('multipart/form-data')) parsed = decodeMultipart(bytes, type) as Record<string, unknown>
  else {
    try {
      parsed = JSON.parse(text) as Record<string, unknown>
    } catch {
      parsed = {}
    }
  }
  return { status: res.status, headers: res.headers, body: parsed, text, bytes }
}

/** POST /run as multipart (bytes of npy/png values travel as parts), asking for multipart back. */
export function callMultipart(
  target: Target,
  path: string,
  message: unknown,
  headers: Record<string, string> = {},
): Promise<Reply> {
  const { body, contentType } = encodeMultipart(message as never)
  return call(target, path, {
    raw: { body, contentType },
    headers: { accept: 'multipart/form-data, application/json', ...headers },
  })
}

export interface SseEvent {
  id?: string
  event?: string
  data: string
}

export interface SseStream {
  status: number
  contentType: string
  /** Lines that are neither events nor comments nor `retry:` (must be none). */
  retry?: string
  events: SseEvent[]
}

/** Reads GET /jobs/:id/events to its end (bounded) and splits it into events. */
export async function readEvents(target: Target, jobId: string, timeoutMs = 45_000): Promise<SseStream> {
  const res = await fetch(`${target.url}/jobs/${jobId}/events`, {
    headers: authHeader(target, true),
    signal: AbortSignal.timeout(timeoutMs),
  })
  const text = await res.text()
  const events: SseEvent[] = []
  let retry: string | undefined
  for (const block of text.split('\n\n')) {
    const lines = block.split('\n').filter((l) => l !== '' && !l.startsWith(':'))
    if (lines.length === 0) continue
    const event: SseEvent = { data: '' }
    const data: string[] = []
    for (const line of lines) {
      const at = line.indexOf(':')
      const field = at < 0 ? line : line.slice(0, at)
      const value = at < 0 ? '' : line.slice(at + 1).replace(/^ /, '')
      if (field === 'data') data.push(value)
      else if (field === 'id') event.id = value
      else if (field === 'event') event.event = value
      else if (field === 'retry') retry = value
    }
    if (data.length > 0) events.push({ ...event, data: data.join('\n') })
  }
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', retry, events }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/**
 * Sends only the headers of a POST declaring `bytes` of JSON body and reads the answer (a worker must
 * refuse a declared size over its limit without reading the body). Bounded.
 */
export function declareBody(target: Target, path: string, bytes: number, timeoutMs = 15_000): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${target.url}${path}`, {
      method: 'POST',
      headers: {
        ...authHeader(target, true),
        'content-type': 'application/json',
        'content-length': String(bytes),
      },
    })
    const timer = setTimeout(() => {
      req.destroy()
      reject(new Error(`no answer to a ${bytes}-byte declaration within ${timeoutMs} ms`))
    }, timeoutMs)
    req.on('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
    req.on('response', (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        clearTimeout(timer)
        req.destroy()
        const bytes = Buffer.concat(chunks)
        const text = bytes.toString('utf8')
        let body: Record<string, unknown> = {}
        try {
          body = JSON.parse(text) as Record<string, unknown>
        } catch {}
        resolve({
          status: res.statusCode ?? 0,
          headers: new Headers(res.headers as Record<string, string>),
          body,
          text,
          bytes,
        })
      })
    })
    req.flushHeaders()
  })
}
