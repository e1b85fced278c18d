import { WebSocket } from 'ws'
import { waitFor } from './helpers.js'

export type WsMessage = { type: string; data: Record<string, unknown> } | { binary: Buffer }

/** A `/ws` client that records every message it receives. */
export class WsRecorder {
  readonly messages: WsMessage[] = []
  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data, isBinary) => {
      this.messages.push(isBinary ? { binary: data as Buffer } : (JSON.parse(String(data)) as WsMessage))
    })
  }

  static async open(baseUrl: string, clientId: string, first?: unknown): Promise<WsRecorder> {
    const socket = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/ws?clientId=${clientId}`)
    const recorder = new WsRecorder(socket)
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve())
      socket.once('error', reject)
    })
    if (first !== undefined) socket.send(JSON.stringify(first))
    await waitFor(() => (recorder.messages.length > 0 ? true : undefined))
    return recorder
  }

  /** Data of the first JSON message of this type (throws when there is none). */
  data(type: string): Record<string, unknown> {
    const found = this.messages.find((m) => 'type' in m && m.type === type)
    if (!found || !('type' in found)) throw new Error(`no "${type}" message received`)
    return found.data
  }

  types(): string[] {
    return this.messages.map((m) => ('type' in m ? m.type : 'binary'))
  }

  /** Wait for `executing` with node null for this prompt (the end of a run). */
  async untilDone(promptId: string, timeoutMs = 10_000): Promise<void> {
    await waitFor(
      () =>
        this.messages.some(
          (m) =>
            'type' in m && m.type === 'executing' && m.data.node === null && m.data.prompt_id === promptId,
        )
          ? true
          : undefined,
      timeoutMs,
    )
  }

  close(): void {
    this.socket.terminate()
  }
}
