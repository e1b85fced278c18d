import type { IncomingMessage, ServerResponse } from 'node:http'
import { pyJsonDumps } from './py-json.js'

export const SERVER_HEADER = 'Python/3.11 aiohttp/3.8.4'

/** A request the fake received, kept for assertions. */
export interface RecordedRequest {
  method: string
  /** Path without the query string, e.g. `/prompt`. */
  path: string
  query: Record<string, string>
  headers: Record<string, string | string[] | undefined>
  /** Parsed JSON when the body was JSON, else the body text (undefined when empty). */
  body: unknown
  rawBody: Buffer
}

/** What an `onRequest` hook may answer instead of the fake's own handler. */
export interface FakeReply {
  status: number
  body?: unknown
  headers?: Record<string, string>
}

/** A body over the server's limit (aiohttp's `client_max_size`, `--max-upload-size` MB in ComfyUI). */
export class BodyTooLarge extends Error {
  constructor(
    readonly limit: number,
    readonly actual: number,
  ) {
    super(`Maximum request body size ${limit} exceeded, actual body size ${actual}`)
  }
}

export function readBody(req: IncomingMessage, limit = 100 * 1024 * 1024): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    let over = false
    req.on('data', (chunk: Buffer) => {
      size += chunk.byteLength
      if (over) return
      if (size > limit) {
        over = true
        chunks.length = 0
        reject(new BodyTooLarge(limit, size))
        return
      }
      chunks.push(chunk)
    })
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

export function parseBody(raw: Buffer, contentType: string | undefined): unknown {
  if (raw.byteLength === 0) return undefined
  const text = raw.toString('utf8')
  if (contentType?.startsWith('multipart/')) return undefined
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

export function baseHeaders(): Record<string, string> {
  return { Date: new Date().toUTCString(), Server: SERVER_HEADER }
}

/** aiohttp's `web.json_response`: Python json.dumps text, `application/json; charset=utf-8`. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = Buffer.from(pyJsonDumps(body), 'utf8')
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(text.byteLength),
    ...baseHeaders(),
  })
  res.end(text)
}

/** aiohttp's `web.Response(status=...)` without a body: `application/octet-stream`, length 0. */
export function sendEmpty(res: ServerResponse, status = 200): void {
  res.writeHead(status, {
    'Content-Length': '0',
    'Content-Type': 'application/octet-stream',
    ...baseHeaders(),
  })
  res.end()
}

export function sendText(res: ServerResponse, status: number, text: string): void {
  const bytes = Buffer.from(text, 'utf8')
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': String(bytes.byteLength),
    ...baseHeaders(),
  })
  res.end(bytes)
}

export function sendBytes(res: ServerResponse, bytes: Uint8Array, headers: Record<string, string>): void {
  res.writeHead(200, { ...headers, 'Content-Length': String(bytes.byteLength), ...baseHeaders() })
  res.end(bytes)
}

export function sendReply(res: ServerResponse, reply: FakeReply): void {
  if (reply.body === undefined) {
    res.writeHead(reply.status, { 'Content-Length': '0', ...baseHeaders(), ...(reply.headers ?? {}) })
    res.end()
    return
  }
  const text = typeof reply.body === 'string' ? reply.body : pyJsonDumps(reply.body)
  res.writeHead(reply.status, {
    'Content-Type':
      typeof reply.body === 'string' ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(text)),
    ...baseHeaders(),
    ...(reply.headers ?? {}),
  })
  res.end(text)
}
