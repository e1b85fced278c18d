import { collectOutputs, isIoHelpersError } from '@comfy-remote/io-helpers'
import type { EncodedValue } from '@comfy-remote/protocol'
import { MockWorkerError } from '../errors.js'
import type { RunContext } from '../job.js'
import { materialize, withoutFiles } from '../spool/materialize.js'
import { checkInputs, injectWithUploads, readOutputFiles } from './comfyui-app-mode.js'
import { ComfyHttp, describeNodeErrors, type HistoryEntry } from './comfyui-http.js'
import { ProgressFolder } from './comfyui-progress.js'
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
}

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
      exception_type: data.exception_type,
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

  const settle = async (entry: HistoryEntry): Promise<Record<string, EncodedValue>> => {
    if (entry.status?.status_str === 'success' || (entry.status === undefined && entry.outputs !== undefined))
      return readOutputFiles(http.baseUrl, context.prompt, outputsOf(entry), options.timeoutMs)
    throw historyFailure(entry)
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

  const run = async (
    inputs: Record<string, EncodedValue>,
    ctx: RunContext,
  ): Promise<Record<string, EncodedValue>> => {
    const prompt = await injectWithUploads(http.baseUrl, context.prompt, inputs, ctx.jobId, options.timeoutMs)
    await socket.ensure()
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
          if (entry !== undefined) return await settle(entry)
          continue
        }
        switch (message.type) {
          case 'closed': {
            const entry = await http.history(promptId).catch(() => undefined)
            if (entry !== undefined) return await settle(entry)
            throw new MockWorkerError(
              'COMFYUI_UNAVAILABLE',
              `Lost the connection to ComfyUI at ${http.baseUrl} while prompt ${promptId} was running; check that ComfyUI is running and submit the job again.`,
            )
          }
          case 'execution_start':
            ctx.running()
            break
          case 'execution_error':
            throw executionError(message.data)
          case 'execution_interrupted':
            throw new MockWorkerError('CANCELLED', 'The prompt was interrupted in ComfyUI.')
          case 'execution_success':
            return await settle(await finalHistory(promptId))
          case 'executing':
            if (message.data.node === null) return await settle(await finalHistory(promptId))
            ctx.running()
            break
        }
        const progress = folder.apply(message)
        if (progress !== undefined) ctx.progress(progress.value, progress.max, progress.message)
      }
    } finally {
      unwatch()
      http.deleteHistory(promptId).catch(() => {})
    }
  }

  return {
    name: 'comfyui',
    prepare(inputs) {
      // Check the request now; spooled files are read only when the job starts (queued jobs hold no bytes).
      checkInputs(context.prompt, withoutFiles(inputs) as Record<string, EncodedValue>)
      return inputs
    },
    run: (prepared, ctx) =>
      run(materialize(prepared as Record<string, EncodedValue>) as Record<string, EncodedValue>, ctx),
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
