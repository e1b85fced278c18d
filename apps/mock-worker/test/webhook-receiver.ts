import { randomBytes } from 'node:crypto'
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http'

/** One request the receiver got. */
export interface Received {
  at: number
  headers: IncomingHttpHeaders
  body: string
}

/** What the receiver does with the n-th request: answer a status (with headers), or never answer. */
export type Behaviour = { status: number; headers?: Record<string, string> } | 'hang'

/** A webhook receiver on 127.0.0.1: records every request; answers per `behaviours` (then 200). */
export class Receiver {
  readonly received: Received[] = []
  readonly behaviours: Behaviour[] = []
  readonly #hanging = new Set<ServerResponse>()
  #server: Server | undefined
  url = ''

  get hanging(): number {
    return this.#hanging.size
  }

  async start(): Promise<this> {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        this.received.push({
          at: Date.now(),
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        })
        const behaviour = this.behaviours.shift() ?? { status: 200 }
        if (behaviour === 'hang') {
          this.#hanging.add(res)
          res.on('close', () => this.#hanging.delete(res))
          return
        }
        res.writeHead(behaviour.status, behaviour.headers ?? {})
        res.end('ok')
      })
    })
    await new Promise<void>((resolve) => this.#server?.listen(0, '127.0.0.1', resolve))
    const address = this.#server.address()
    this.url = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}/hook`
    return this
  }

  async close(): Promise<void> {
    for (const res of this.#hanging) res.destroy()
    this.#server?.closeAllConnections()
    await new Promise((resolve) => this.#server?.close(resolve))
  }
}

/** A fresh Standard Webhooks secret. */
export const newSecret = (): string => `whsec_${randomBytes(32).toString('base64')}`
