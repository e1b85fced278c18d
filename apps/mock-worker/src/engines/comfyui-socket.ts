import { randomUUID } from 'node:crypto'
import WebSocket from 'ws'
import { MockWorkerError } from '../errors.js'
import { readPreviewFrame } from './comfyui-preview-frame.js'

/** A ComfyUI /ws message, plus `closed` (the socket went away) and `progress_text` (binary type 3). */
export interface ComfyMessage {
  type: string
  data: Record<string, unknown>
}

type Handler = (message: ComfyMessage) => void

const BUFFER_LIMIT = 500
const BUFFER_TTL_MS = 60_000

/**
 * One websocket to ComfyUI for the whole worker (`/ws?clientId=`), routing
 * messages to jobs by prompt_id. Messages that arrive before a job watches
 * its prompt (ComfyUI may start it before POST /prompt answers) are buffered.
 */
export class ComfySocket {
  readonly clientId = randomUUID()
  readonly #wsUrl: string
  readonly #timeoutMs: number
  #ws: WebSocket | undefined
  #connecting: Promise<void> | undefined
  #current: string | undefined
  readonly #handlers = new Map<string, Handler>()
  readonly #buffer = new Map<string, { at: number; messages: ComfyMessage[] }>()
  #closed = false

  constructor(baseUrl: string, timeoutMs: number) {
    const url = new URL(baseUrl)
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:'
    url.pathname = `${url.pathname.replace(/\/+$/, '')}/ws`
    url.searchParams.set('clientId', this.clientId)
    this.#wsUrl = url.toString()
    this.#timeoutMs = timeoutMs
  }

  get open(): boolean {
    return this.#ws?.readyState === WebSocket.OPEN
  }

  /** Connect unless connected; COMFYUI_UNAVAILABLE when ComfyUI cannot be reached. */
  ensure(): Promise<void> {
    if (this.#closed)
      return Promise.reject(new MockWorkerError('COMFYUI_UNAVAILABLE', 'The worker is closing.'))
    if (this.open) return Promise.resolve()
    this.#connecting ??= this.#connect().finally(() => {
      this.#connecting = undefined
    })
    return this.#connecting
  }

  #connect(): Promise<void> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.#wsUrl, { handshakeTimeout: this.#timeoutMs })
      let opened = false
      ws.on('open', () => {
        // Ask for type-4 preview frames, which name their prompt and node (ComfyUI >= 0.3.4x).
        ws.send(JSON.stringify({ type: 'feature_flags', data: { supports_preview_metadata: true } }))
        opened = true
        this.#ws = ws
        resolve()
      })
      ws.on('message', (raw, isBinary) => this.#onMessage(raw as Buffer, isBinary))
      ws.on('error', (error) => {
        if (!opened) {
          reject(
            new MockWorkerError(
              'COMFYUI_UNAVAILABLE',
              `Cannot open ComfyUI's websocket ${this.#wsUrl.split('?')[0]} (${error.message}); check that ComfyUI is running and --comfyui-url is right.`,
              {
                cause: error,
              },
            ),
          )
        }
      })
      ws.on('close', () => {
        if (this.#ws === ws) this.#ws = undefined
        if (!opened) return
        this.#current = undefined
        for (const handler of [...this.#handlers.values()]) handler({ type: 'closed', data: {} })
      })
    })
  }

  #onMessage(raw: Buffer, isBinary: boolean): void {
    if (isBinary) {
      const preview = readPreviewFrame(raw)
      if (preview !== undefined) {
        const promptId = preview.promptId ?? this.#current
        // Previews are live only: never buffered for a prompt nobody watches yet.
        if (promptId !== undefined)
          this.#handlers.get(promptId)?.({
            type: 'preview',
            data: { prompt_id: promptId, node: preview.node, mime: preview.mime, image: preview.image },
          })
        return
      }
      // type 3 = progress text: [u32 type][u32 node id length][node id][utf-8 text]
      if (raw.length < 8 || raw.readUInt32BE(0) !== 3) return
      const len = raw.readUInt32BE(4)
      if (8 + len > raw.length) return
      const node = raw.subarray(8, 8 + len).toString('utf8')
      const text = raw.subarray(8 + len).toString('utf8')
      if (this.#current !== undefined)
        this.#dispatch(this.#current, {
          type: 'progress_text',
          data: { node, text, prompt_id: this.#current },
        })
      return
    }
    let message: ComfyMessage
    try {
      message = JSON.parse(raw.toString('utf8')) as ComfyMessage
    } catch {
      return
    }
    if (
      typeof message !== 'object' ||
      message === null ||
      typeof message.data !== 'object' ||
      message.data === null
    )
      return
    const promptId = message.data.prompt_id
    if (typeof promptId !== 'string') return
    if (message.type === 'execution_start') this.#current = promptId
    if (message.type === 'executing' && message.data.node === null && this.#current === promptId)
      this.#current = undefined
    this.#dispatch(promptId, message)
  }

  #dispatch(promptId: string, message: ComfyMessage): void {
    const handler = this.#handlers.get(promptId)
    if (handler !== undefined) {
      handler(message)
      return
    }
    const now = Date.now()
    for (const [id, entry] of this.#buffer) if (now - entry.at > BUFFER_TTL_MS) this.#buffer.delete(id)
    let entry = this.#buffer.get(promptId)
    if (entry === undefined) {
      entry = { at: now, messages: [] }
      this.#buffer.set(promptId, entry)
    }
    if (entry.messages.length < BUFFER_LIMIT) entry.messages.push(message)
  }

  /** Receive the messages of one prompt (buffered ones first); returns the unsubscribe function. */
  watch(promptId: string, handler: Handler): () => void {
    this.#handlers.set(promptId, handler)
    const buffered = this.#buffer.get(promptId)
    this.#buffer.delete(promptId)
    for (const message of buffered?.messages ?? []) handler(message)
    if (!this.open) handler({ type: 'closed', data: {} })
    return () => {
      if (this.#handlers.get(promptId) === handler) this.#handlers.delete(promptId)
    }
  }

  close(): void {
    this.#closed = true
    this.#ws?.terminate()
    this.#ws = undefined
  }
}
