import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import type { Server, ServerResponse } from 'node:http'
import { createServer } from 'node:http'
import type { Socket } from 'node:net'
import { WebSocketServer } from 'ws'
import { IoHelpersError } from '../errors.js'
import { withRemoteNodes } from '../remote-nodes.js'
import type { ApiNode, ObjectInfo } from '../types.js'
import { recordedObjectInfo } from './fixtures.js'
import type { FakeReply, RecordedRequest } from './http-util.js'
import { BodyTooLarge, parseBody, readBody, sendReply, sendText } from './http-util.js'
import type { RecordedFailure } from './recordings.js'
import { route } from './routes.js'
import type { HistoryRecord, QueueItem } from './state.js'
import { FakeState } from './state.js'

export interface FakeComfyUIOptions {
  /** Port to listen on (default 0: a free port). */
  port?: number
  /** Host to bind (default 127.0.0.1). */
  host?: string
  /** Delay of every executed node, in ms (default 0). */
  nodeDelayMs?: number
  /** `progress` messages each non-Remote node sends (default 0). */
  progressSteps?: number
  /** Delay before each progress step, in ms (default 0). */
  stepDelayMs?: number
  /** Also send a type-3 binary text frame ("step i/n") per progress step. */
  progressText?: boolean
  /** ComfyUI's `--max-upload-size` in MB (default 100): larger request bodies are answered 413. */
  maxUploadSizeMb?: number
  /**
   * Also send a sampler-like preview image per progress step, as ComfyUI's ProgressBar does: a type-4
   * frame (before `progress`) to clients that announced supports_preview_metadata, else a type-1
   * frame (after `progress`). The image is the recorded PNG of ws-preview.
   */
  stepPreviews?: boolean
  /**
   * A real folder standing for ComfyUI's temp folder: `temp/comfy_remote` files live on disk there and
   * the node pack's `GET /comfy-remote/files/folder` / `POST /comfy-remote/files/probe` answer, so a
   * worker on this machine links files instead of uploading them. Without it those routes answer 404
   * and every file goes through /upload/image and /view.
   */
  tempDir?: string
  /** Base object_info (default: the recorded 0.3.64 one); the comfy-remote nodes are merged in. */
  objectInfo?: ObjectInfo
  /**
   * Cache node results like ComfyUI does (default false): a node whose class, literal inputs and
   * upstream are unchanged is not run again; cached output nodes replay `executed`.
   */
  cache?: boolean
  /**
   * Return an exception message (or the full `execution_error` fields, traceback included) to make a
   * node fail with `execution_error`.
   */
  failNode?: (nodeId: string, node: ApiNode) => string | RecordedFailure | undefined
  /**
   * Called for every request before the fake handles it. Return a reply to answer with it, `'destroy'`
   * to cut the connection, `'hang'` to never answer, or undefined to let the fake answer.
   */
  onRequest?: (request: RecordedRequest) => FakeReply | 'destroy' | 'hang' | undefined
}

export interface FakeComfyUI {
  /** `http://127.0.0.1:<port>` */
  readonly url: string
  readonly port: number
  /** Every HTTP request received, in order (websocket upgrades included, as GET /ws). */
  readonly requests: RecordedRequest[]
  /** The object_info it serves (recorded 0.3.64 + comfy-remote nodes). */
  readonly objectInfo: ObjectInfo
  /** History entries by prompt id. */
  readonly history: ReadonlyMap<string, HistoryRecord>
  /** Every file in the fake's input/temp/output folders, as `[type, subfolder, name]`. */
  files(): Array<[string, string, string]>
  /** The running prompt and the pending ones. */
  queue(): { running: QueueItem | undefined; pending: QueueItem[] }
  /** Cut every open `/ws` connection (HTTP keeps working; clients may reconnect). */
  dropWebSockets(): void
  /** Simulate ComfyUI going away: drop every connection and stop listening (later requests are refused). */
  goAway(): Promise<void>
  /** Stop the server and close all connections. */
  close(): Promise<void>
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost'])

/** Start a fake ComfyUI 0.3.64 built from the recorded fixtures. */
export async function createFakeComfyUI(options: FakeComfyUIOptions = {}): Promise<FakeComfyUI> {
  if (options.host !== undefined && !LOOPBACK.has(options.host)) {
    throw new IoHelpersError(
      'INVALID_OPTIONS',
      `host "${options.host}" is not a loopback address: the fake ComfyUI has no auth, bind 127.0.0.1 or ::1`,
    )
  }
  const objectInfo = withRemoteNodes(options.objectInfo ?? recordedObjectInfo())
  const state = new FakeState(
    objectInfo,
    {
      nodeDelayMs: options.nodeDelayMs ?? 0,
      progressSteps: options.progressSteps ?? 0,
      stepDelayMs: options.stepDelayMs ?? 0,
      progressText: options.progressText ?? false,
      stepPreviews: options.stepPreviews ?? false,
      failNode: options.failNode,
    },
    options.cache ?? false,
    options.tempDir,
  )
  const requests: RecordedRequest[] = []
  const sockets = new Set<Socket>()
  const wss = new WebSocketServer({ noServer: true })

  const handle = async (request: RecordedRequest, res: ServerResponse) => {
    const hook = options.onRequest?.(request)
    if (hook === 'destroy') return void res.socket?.destroy()
    if (hook === 'hang') return
    if (hook) return sendReply(res, hook)
    await route(state, request, res)
  }

  const server: Server = createServer((req, res) => {
    readBody(req, (options.maxUploadSizeMb ?? 100) * 1024 * 1024)
      .then(async (raw) => {
        const url = new URL(req.url ?? '/', 'http://fake')
        const request: RecordedRequest = {
          method: req.method ?? 'GET',
          path: url.pathname,
          query: Object.fromEntries(url.searchParams),
          headers: req.headers,
          body: parseBody(raw, req.headers['content-type']),
          rawBody: raw,
        }
        requests.push(request)
        await handle(request, res)
      })
      .catch(async (error: unknown) => {
        if (error instanceof BodyTooLarge) {
          // aiohttp "lingers": it reads and drops the rest of the body (up to lingering_time, 10 s)
          // before closing, so the client gets its 413 instead of a connection cut mid-upload
          if (!req.complete)
            await Promise.race([once(req, 'end'), new Promise((r) => setTimeout(r, 10_000))]).catch(() => {})
          res.setHeader('Connection', 'close')
          return sendText(res, 413, error.message)
        }
        if (!res.headersSent) sendText(res, 500, `500 Internal Server Error\n\n${String(error)}`)
      })
  })
  server.keepAliveTimeout = 75_000 // aiohttp's keepalive_timeout
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://fake')
    const path = url.pathname.startsWith('/api/') ? url.pathname.slice(4) : url.pathname
    const request: RecordedRequest = {
      method: 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      body: undefined,
      rawBody: Buffer.alloc(0),
    }
    requests.push(request)
    const hook = options.onRequest?.(request)
    if (path !== '/ws' || hook === 'destroy' || (hook && hook !== 'hang')) return void socket.destroy()
    if (hook === 'hang') return
    wss.handleUpgrade(req, socket, head, (ws) => {
      const sid = url.searchParams.get('clientId') || randomUUID().replace(/-/g, '')
      state.hub.add(ws, sid, state.queueRemaining())
    })
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve())
  })
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  const host = options.host ?? '127.0.0.1'
  let closed: Promise<void> | undefined
  const shutdown = () => {
    closed ??= new Promise<void>((resolve) => {
      state.pending.splice(0)
      state.interruptRequested = true
      state.hub.closeAll()
      wss.close()
      for (const socket of sockets) socket.destroy()
      server.close(() => resolve())
    })
    return closed
  }
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    requests,
    objectInfo,
    history: state.history,
    files: () => state.files.list(),
    queue: () => ({ running: state.running, pending: [...state.pending] }),
    dropWebSockets: () => state.hub.closeAll(),
    goAway: shutdown,
    close: shutdown,
  }
}
