import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface Recorded {
  method: string
  path: string
  query: URLSearchParams
  headers: IncomingMessage['headers']
  body: Buffer
  at: number
}

export type Handler = (req: Recorded, res: ServerResponse, raw: IncomingMessage) => void | Promise<void>

export interface TestServer {
  url: string
  requests: Recorded[]
  close(): Promise<void>
}

/** A scripted HTTP server on 127.0.0.1, random port; records every request with its body. */
export async function startServer(handler: Handler): Promise<TestServer> {
  const requests: Recorded[] = []
  const server: Server = createServer((raw, res) => {
    const chunks: Buffer[] = []
    raw.on('data', (c: Buffer) => chunks.push(c))
    raw.on('end', () => {
      const u = new URL(raw.url ?? '/', 'http://x')
      const rec: Recorded = {
        method: raw.method ?? 'GET',
        path: u.pathname,
        query: u.searchParams,
        headers: raw.headers,
        body: Buffer.concat(chunks),
        at: Date.now(),
      }
      requests.push(rec)
      Promise.resolve(handler(rec, res, raw)).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' })
        res.end(String(error))
      })
    })
  })
  server.keepAliveTimeout = 500
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

export function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  })
  res.end(text)
}

export function text(res: ServerResponse, status: number, body: string, type = 'text/html'): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) })
  res.end(body)
}

/** Cuts the connection without an answer. */
export function drop(res: ServerResponse): void {
  res.socket?.destroy()
}

export function wait(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** Waits until `check` is true, polling every 10 ms, at most `ms`. */
export async function until(check: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) throw new Error(`condition not met within ${ms} ms`)
    await wait(10)
  }
}
