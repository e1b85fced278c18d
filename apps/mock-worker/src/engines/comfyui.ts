import { rm } from 'node:fs/promises'
import { Readable } from 'node:stream'
import type { ReadableStream as NodeReadableStream } from 'node:stream/web'
import type { ComfyFileRef, HandoffOptions, PlannedFile } from '@comfy-remote/io-helpers'
import {
  collectOutputs,
  fileRefsIn,
  isIoHelpersError,
  pendingUploads,
  planFileHandoff,
  resolveFileRefs,
} from '@comfy-remote/io-helpers'
import { type EncodedValue, ProtocolError } from '@comfy-remote/protocol'
import { checkBinaryHeads } from '../binary-heads.js'
import { MockWorkerError } from '../errors.js'
import type { RunContext } from '../job.js'
import { isFileBytes } from '../spool/file-bytes.js'
import { materialize, withoutFiles } from '../spool/materialize.js'
import type { ApiPrompt } from '../workflow.js'
import { checkInputs, injectWithUploads } from './comfyui-app-mode.js'
import { readViewFile, releaseViewFiles, uploadFile, type ViewSink } from './comfyui-files.js'
import { ComfyHttp, describeNodeErrors, type HistoryEntry } from './comfyui-http.js'
import { ProgressFolder } from './comfyui-progress.js'
import { placeFile, probeSharedFolder, type SharedFolder, takeFile } from './comfyui-shared-folder.js'
import { type ComfyMessage, ComfySocket } from './comfyui-socket.js'
import type { Engine, EngineContext } from './types.js'

export interface ComfyuiOptions {
  url: string
  /** Timeout of each HTTP request to ComfyUI, in ms. */
  timeoutMs: number
  /** History reads after the final ws message before giving up (history may lag a few ms). */
  historyRetries: number
  historyRetryMs: number
  /** Interval of the safety-net history poll while a prompt runs, in ms. */
  historyPollMs: number
  /** How long to wait for ComfyUI to confirm an interrupt, in ms. */
  cancelWaitMs?: number
  /**
   * Binary leaves of at least this many bytes go to ComfyUI as uploaded files (default 64 KiB);
   * smaller ones stay base64 in the prompt. Infinity turns the file handoff off.
   */
  fileMinBytes?: number
  /**
   * Larger values are uploaded in parts of at most this many bytes (default 64 MiB), under ComfyUI's
   * `--max-upload-size` (100 MiB by default); Remote Input joins the parts.
   */
  uploadPartBytes?: number
  /** Where values read back with GET /view go (default: a file in the job's spool). */
  viewSink?: ViewSink
  /**
   * `auto` (default): when ComfyUI runs on this machine and the node pack proves it reads what this
   * worker writes into its `<temp>/comfy_remote` folder, files are placed and taken there directly
   * (hard links, no HTTP copy); otherwise, and with `http`, through `/upload/image` and `/view`.
   */
  fileTransfer?: 'auto' | 'http'
}

/** What `prepare` hands to `run`: the prompt with file refs and the files to upload first. */
interface Prepared {
  prompt: ApiPrompt
  files: PlannedFile[]
  /** ComfyUI's shared folder the files go to (planned without parts), or undefined: HTTP uploads. */
  folder: SharedFolder | undefined
}

const FILE_MIN_BYTES = 64 * 1024

/** `partBytes` for the handoff options; undefined keeps io-helpers' default (64 MiB). */
const partBytes = (bytes: number | undefined): { partBytes?: number } =>
  bytes === undefined ? {} : { partBytes: bytes }

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** Messages of one prompt, awaited one by one with a timeout. */
class Inbox {
  readonly #items: ComfyMessage[] = []
  #wake: (() => void) | undefined
  push = (message: ComfyMessage): void => {
    this.#items.push(message)
    this.#wake?.()
  }
  async next(timeoutMs: number, signal: AbortSignal): Promise<ComfyMessage | 'tick' | 'abort'> {
    if (signal.aborted) return 'abort'
    const ready = this.#items.shift()
    if (ready !== undefined) return ready
    return new Promise((resolve) => {
      const finish = (value: ComfyMessage | 'tick' | 'abort'): void => {
        clearTimeout(timer)
        signal.removeEventListener('abort', onAbort)
        this.#wake = undefined
        resolve(value)
      }
      const onAbort = (): void => finish('abort')
      const timer = setTimeout(() => finish('tick'), timeoutMs)
      signal.addEventListener('abort', onAbort, { once: true })
      this.#wake = () => finish(this.#items.shift() ?? 'tick')
    })
  }
}

function executionError(data: Record<string, unknown>): MockWorkerError {
  const node = `node ${String(data.node_id ?? '?')}${data.node_type ? ` (${String(data.node_type)})` : ''}`
  const what = String(data.exception_message ?? 'unknown error').trim()
  return new MockWorkerError('COMFYUI_EXECUTION', `ComfyUI failed at ${node}: ${what}`, {
    details: {
      node_id: data.node_id,
      node_type: data.node_type,
      // ComfyUI 0.2x names a custom node's module by its file path: keep only the part after it
      exception_type:
        typeof data.exception_type === 'string'
          ? data.exception_type.split(/[\\/]/).pop()
          : data.exception_type,
      exception_message: data.exception_message,
    },
  })
}

/** The failure a finished-with-error history entry describes. */
function historyFailure(entry: HistoryEntry): MockWorkerError {
  for (const [event, data] of entry.status?.messages ?? []) {
    if (event === 'execution_error') return executionError(data)
    if (event === 'execution_interrupted')
      return new MockWorkerError('CANCELLED', 'The prompt was interrupted in ComfyUI.')
  }
  return new MockWorkerError(
    'COMFYUI_EXECUTION',
    `ComfyUI ended the prompt with status "${entry.status?.status_str ?? 'unknown'}".`,
  )
}

/** comfyui engine: each job is one prompt on a ComfyUI server. */
export function createComfyuiEngine(context: EngineContext, options: ComfyuiOptions): Engine {
  const http = new ComfyHttp(options.url, options.timeoutMs)
  const socket = new ComfySocket(options.url, options.timeoutMs)
  const cancelWaitMs = options.cancelWaitMs ?? 10_000

  // The shared folder, probed once (again after it failed us: ComfyUI restarted, folder removed...).
  let folderProbe: Promise<SharedFolder | undefined> | undefined
  const sharedFolder = (): Promise<SharedFolder | undefined> => {
    if (options.fileTransfer === 'http' || options.viewSink !== undefined) return Promise.resolve(undefined)
    folderProbe ??= probeSharedFolder(http.baseUrl, options.timeoutMs).then((folder) => {
      context.log?.info(
        folder === undefined
          ? 'ComfyUI files go through /upload/image and /view'
          : `ComfyUI shares ${folder.path} with this worker: files are linked there, not uploaded`,
      )
      return folder
    })
    return folderProbe
  }
  const forgetFolder = (): void => {
    folderProbe = undefined
  }

  const outputsOf = (entry: HistoryEntry): Record<string, EncodedValue> => {
    try {
      return collectOutputs(context.prompt, entry as never) as Record<string, EncodedValue>
    } catch (error) {
      if (isIoHelpersError(error))
        throw new MockWorkerError('COMFYUI_EXECUTION', `ComfyUI finished but ${error.message}`, {
          cause: error,
        })
      throw error
    }
  }

  /** History after the final ws message: it may lag by a few ms, so retry a bounded number of times. */
  const finalHistory = async (promptId: string): Promise<HistoryEntry> => {
    for (let attempt = 0; attempt <= options.historyRetries; attempt++) {
      const entry = await http.history(promptId)
      if (entry !== undefined) return entry
      await sleep(options.historyRetryMs)
    }
    throw new MockWorkerError(
      'COMFYUI_PROTOCOL',
      `ComfyUI reported prompt ${promptId} finished but /history has no entry for it.`,
    )
  }

  /** Values whose bytes ComfyUI left in files (Remote Output, format A) are read back with GET /view. */
  const readFiles = async (
    values: Record<string, EncodedValue>,
    ctx: RunContext,
  ): Promise<Record<string, EncodedValue>> => {
    // default: stream each file into the job's spool (memory stays flat whatever the size)
    const sink: ViewSink =
      options.viewSink ??
      ((ref, body) => ctx.spool.write(Readable.fromWeb(body as NodeReadableStream<Uint8Array>), ref.filename))
    const folder = await sharedFolder()
    const take = async (ref: ComfyFileRef): Promise<unknown> => {
      if (folder !== undefined) {
        const taken = await takeFile(folder, ref, ctx.spool).catch(() => {
          forgetFolder()
          return undefined
        })
        if (taken !== undefined) return taken
      }
      read.push(ref)
      return readViewFile(http.baseUrl, ref, options.timeoutMs, sink)
    }
    const out: Record<string, EncodedValue> = {}
    const read: ComfyFileRef[] = []
    for (const [name, value] of Object.entries(values)) {
      out[name] =
        fileRefsIn(value).length === 0 ? value : ((await resolveFileRefs(value, take)) as EncodedValue)
    }
    await releaseViewFiles(http.baseUrl, read, options.timeoutMs)
    return out
  }

  const settle = async (entry: HistoryEntry, ctx: RunContext): Promise<Record<string, EncodedValue>> => {
    if (entry.status?.status_str === 'success' || (entry.status === undefined && entry.outputs !== undefined))
      return readFiles(outputsOf(entry), ctx)
    throw historyFailure(entry)
  }

  // Parts keep each upload under ComfyUI's --max-upload-size; a shared folder has no such limit.
  const handoff = (prefix: string, shared = false): HandoffOptions => ({
    prefix,
    type: 'temp',
    minBytes: options.fileMinBytes ?? FILE_MIN_BYTES,
    ...partBytes(shared ? Number.MAX_SAFE_INTEGER : options.uploadPartBytes),
    bytesOf: (data) => (isFileBytes(data) ? data : undefined),
  })

  /**
   * The prompt of one job: large leaves of Remote Input values (in memory or spooled) become files to
   * upload (format A), the rest travel inline; App Mode upload widgets get their files uploaded.
   */
  const plan = async (inputs: Record<string, EncodedValue>, ctx: RunContext): Promise<Prepared> => {
    const folder = await sharedFolder()
    const appUploads = new Set(pendingUploads(context.prompt, inputs))
    const counter = { n: 0 }
    const files: PlannedFile[] = []
    const planned: Record<string, EncodedValue> = {}
    for (const [name, value] of Object.entries(inputs)) {
      if (appUploads.has(name)) {
        planned[name] = materialize(value) // App Mode upload widgets load the bytes as an image/audio/video
        continue
      }
      const p = planFileHandoff(value, handoff(`cr-${ctx.jobId}`, folder !== undefined), counter)
      planned[name] = materialize(p.value) // small spooled leaves travel inline
      files.push(...p.files)
    }
    const prompt = await injectWithUploads(
      http.baseUrl,
      context.prompt,
      planned,
      ctx.jobId,
      options.timeoutMs,
    )
    return { prompt, files, folder }
  }

  const cancelPrompt = async (promptId: string, inbox: Inbox): Promise<void> => {
    const where = await http.queueState(promptId).catch(() => 'running' as const)
    if (where === 'pending') await http.deleteFromQueue(promptId)
    else if (where === 'running') {
      await http.interrupt(promptId)
      const deadline = Date.now() + cancelWaitMs
      const never = new AbortController().signal
      while (Date.now() < deadline) {
        const message = await inbox.next(Math.min(200, deadline - Date.now()), never)
        if (message === 'tick') {
          if ((await http.history(promptId)) !== undefined) break
          continue
        }
        if (message === 'abort' || message.type === 'closed' || message.type === 'execution_interrupted')
          break
        if (message.type === 'execution_error' || message.type === 'execution_success') break
        if (message.type === 'executing' && message.data.node === null) break
      }
    }
  }

  /** Runs the prompt; files it links into ComfyUI's folder are listed in `placed` (removed after). */
  const runPrompt = async (
    { prompt, files, folder: shared }: Prepared,
    ctx: RunContext,
    placed: string[],
  ): Promise<Record<string, EncodedValue>> => {
    await socket.ensure()
    for (const file of files) {
      if (ctx.signal.aborted) throw new MockWorkerError('CANCELLED', 'The job was cancelled.')
      if (shared !== undefined) {
        const path = await placeFile(shared.path, file).catch(() => undefined)
        if (path !== undefined) {
          placed.push(path)
          continue
        }
        forgetFolder()
      }
      await uploadFile(http.baseUrl, file, options.timeoutMs)
    }
    const accepted = await http.postPrompt(prompt, socket.clientId)
    const promptId = accepted.prompt_id
    if (accepted.node_errors !== undefined && Object.keys(accepted.node_errors).length > 0) {
      // Partially valid: ComfyUI would run only some outputs. Refuse it as a whole.
      await http.deleteFromQueue(promptId).catch(() => {})
      await http.interrupt(promptId).catch(() => {})
      http.deleteHistory(promptId).catch(() => {})
      const lines = describeNodeErrors(accepted.node_errors)
      throw new MockWorkerError(
        'COMFYUI_VALIDATION',
        `ComfyUI rejected part of the prompt: ${lines.join('; ')}`,
        {
          details: { node_errors: accepted.node_errors },
        },
      )
    }
    ctx.admitted()
    const inbox = new Inbox()
    const unwatch = socket.watch(promptId, inbox.push)
    const folder = new ProgressFolder(prompt)
    try {
      for (;;) {
        const message = await inbox.next(options.historyPollMs, ctx.signal)
        if (message === 'abort') {
          await cancelPrompt(promptId, inbox).catch(() => {})
          throw new MockWorkerError('CANCELLED', 'The job was cancelled.')
        }
        if (message === 'tick') {
          const entry = await http.history(promptId)
          if (entry !== undefined) return await settle(entry, ctx)
          continue
        }
        switch (message.type) {
          case 'closed': {
            const entry = await http.history(promptId).catch(() => undefined)
            if (entry !== undefined) return await settle(entry, ctx)
            throw new MockWorkerError(
              'COMFYUI_UNAVAILABLE',
              `Lost the connection to ComfyUI at ${http.baseUrl} while prompt ${promptId} was running; check that ComfyUI is running and submit the job again.`,
            )
          }
          case 'execution_start':
            // running from the first node the folder reports: progress is {0, 100, node} from the start
            // (as the generated app), not a running {0, 1}
            break
          case 'execution_error':
            throw executionError(message.data)
          case 'execution_interrupted':
            throw new MockWorkerError('CANCELLED', 'The prompt was interrupted in ComfyUI.')
          case 'execution_success':
            return await settle(await finalHistory(promptId), ctx)
          case 'executing':
            if (message.data.node === null) return await settle(await finalHistory(promptId), ctx)
            break
        }
        if (message.type === 'preview') {
          const node = folder.node(typeof message.data.node === 'string' ? message.data.node : undefined)
          ctx.preview({
            ...(node === undefined ? {} : { node: node.id }),
            ...(node?.classType === undefined ? {} : { class_type: node.classType }),
            mime: String(message.data.mime),
            data: message.data.image as Uint8Array,
          })
          continue
        }
        const progress = folder.apply(message)
        if (progress !== undefined)
          ctx.progress(progress.value, progress.max, progress.message, progress.node)
        else if (message.type === 'executing') ctx.running()
      }
    } finally {
      unwatch()
      http.deleteHistory(promptId).catch(() => {})
    }
  }

  return {
    name: 'comfyui',
    prepare(inputs) {
      // base64 texts over the parse-time check (1 MiB) are decoded strictly here, before a job exists
      const checkedHandoff = (name: string, value: EncodedValue): EncodedValue => {
        try {
          return planFileHandoff(value, handoff('cr-check')).value as EncodedValue
        } catch (error) {
          if (error instanceof ProtocolError && error.code === 'BASE64_INVALID')
            throw new ProtocolError(
              'BASE64_INVALID',
              `inputs.${name}.data: not valid base64; send the ${value.encoding} bytes base64-encoded (or as a multipart part).`,
              { field: `inputs.${name}.data`, cause: error },
            )
          throw error
        }
      }
      // ComfyUI's Remote Input decodes every npy/png: a broken header or a PNG bomb is a 400 now
      checkBinaryHeads(inputs)
      // Check the request now without reading spooled files or base64-ing large leaves (they become
      // file refs): queued jobs hold no extra bytes; the job plans its files when it starts.
      const light = withoutFiles(inputs) as Record<string, EncodedValue>
      const uploads = new Set(pendingUploads(context.prompt, light))
      const checked = Object.fromEntries(
        Object.entries(light).map(([name, value]) => [
          name,
          uploads.has(name) ? value : checkedHandoff(name, value),
        ]),
      )
      checkInputs(context.prompt, checked)
      return inputs
    },
    run: async (prepared, ctx) => {
      const placed: string[] = []
      try {
        return await runPrompt(await plan(prepared as Record<string, EncodedValue>, ctx), ctx, placed)
      } finally {
        // what Remote Input never read (the job failed or was cancelled first) goes now, not in an hour
        await Promise.all(placed.map((path) => rm(path, { force: true })))
      }
    },
    async health() {
      try {
        await http.systemStats()
        return { ok: true }
      } catch (error) {
        return { ok: false, detail: (error as Error).message }
      }
    },
    async close() {
      socket.close()
    },
  }
}
