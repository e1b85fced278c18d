import type { WebSocket } from 'ws'
import { pyJsonDumps } from './py-json.js'

interface Client {
  socket: WebSocket
  sid: string
  previewMetadata: boolean
}

/** The connected `/ws` clients, addressed by `clientId` as ComfyUI does. */
export class WsHub {
  private readonly clients = new Set<Client>()

  add(socket: WebSocket, sid: string, queueRemaining: number): void {
    const client: Client = { socket, sid, previewMetadata: false }
    this.clients.add(client)
    let first = true
    socket.on('message', (data, isBinary) => {
      if (first && !isBinary) {
        try {
          const msg = JSON.parse(String(data)) as { type?: string; data?: Record<string, unknown> }
          if (msg.type === 'feature_flags') {
            client.previewMetadata = msg.data?.supports_preview_metadata === true
            this.sendTo(client, {
              type: 'feature_flags',
              data: { supports_preview_metadata: true, max_upload_size: 104857600 },
            })
          }
        } catch {
          // ComfyUI ignores what it cannot parse.
        }
      }
      first = false
    })
    socket.on('close', () => this.clients.delete(client))
    socket.on('error', () => this.clients.delete(client))
    this.sendTo(client, {
      type: 'status',
      data: { status: { exec_info: { queue_remaining: queueRemaining } }, sid },
    })
  }

  private sendTo(client: Client, message: unknown): void {
    if (client.socket.readyState === 1) client.socket.send(pyJsonDumps(message))
  }

  /** Send a JSON message to one client id, or to everyone when `sid` is undefined. */
  send(sid: string | undefined, type: string, data: unknown): void {
    for (const client of this.clients)
      if (sid === undefined || client.sid === sid) this.sendTo(client, { type, data })
  }

  /** Send a binary frame built per client (`previewMetadata` says whether it asked for type-4 frames). */
  sendBinary(sid: string | undefined, build: (previewMetadata: boolean) => Uint8Array): void {
    for (const client of this.clients) {
      if (sid !== undefined && client.sid !== sid) continue
      if (client.socket.readyState === 1) client.socket.send(build(client.previewMetadata), { binary: true })
    }
  }

  wantsMetadata(sid: string | undefined): boolean {
    return [...this.clients].some((c) => c.sid === sid && c.previewMetadata)
  }

  closeAll(): void {
    for (const client of this.clients) client.socket.terminate()
    this.clients.clear()
  }
}
