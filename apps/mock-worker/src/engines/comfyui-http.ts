import { MockWorkerError } from '../errors.js'
import type { ApiPrompt } from '../workflow.js'

export interface PromptAccepted {
  prompt_id: string
  number?: number
  node_errors?: Record<string, unknown>
}

export interface HistoryEntry {
  prompt?: unknown
  outputs?: Record<string, unknown>
  status?: { status_str?: string; completed?: boolean; messages?: Array<[string, Record<string, unknown>]> }
  [key: string]: unknown
}

interface NodeError {
  errors?: Array<{ type?: string; message?: string; details?: string; extra_info?: { input_name?: string } }>
  class_type?: string
}

/** One readable line per ComfyUI node error: `node 3 (ImageBlur) input "sigma": Required input is missing`. */
export function describeNodeErrors(nodeErrors: Record<string, unknown>): string[] {
  const lines: string[] = []
  for (const [nodeId, raw] of Object.entries(nodeErrors)) {
    const entry = raw as NodeError
    for (const error of entry.errors ?? []) {
      const input = error.extra_info?.input_name
      const where = `node ${nodeId}${entry.class_type ? ` (${entry.class_type})` : ''}${input ? ` input "${input}"` : ''}`
      const details = error.details && error.details !== input ? `: ${error.details}` : ''
      lines.push(`${where}: ${error.message ?? error.type ?? 'invalid'}${details}`)
    }
  }
  return lines
}

/** Minimal HTTP client for the ComfyUI routes a worker needs. */
export class ComfyHttp {
  readonly baseUrl: string
  readonly #timeoutMs: number

  constructor(baseUrl: string, timeoutMs: number) {
    this.baseUrl = baseUrl.replace(/\/+$/, '')
    this.#timeoutMs = timeoutMs
  }

  async #request(
    path: string,
    init: { method?: string; body?: unknown } = {},
    timeoutMs = this.#timeoutMs,
  ): Promise<Response> {
    const url = `${this.baseUrl}${path}`
    try {
      return await fetch(url, {
        method: init.method ?? 'GET',
        headers: init.body === undefined ? {} : { 'content-type': 'application/json' },
        body: init.body === undefined ? null : JSON.stringify(init.body),
        signal: AbortSignal.timeout(timeoutMs),
      })
    } catch (cause) {
      const reason = (cause as { cause?: { code?: string } })?.cause?.code ?? (cause as Error).message
      throw new MockWorkerError(
        'COMFYUI_UNAVAILABLE',
        `Cannot reach ComfyUI at ${this.baseUrl} (${init.method ?? 'GET'} ${path}: ${reason}); check that ComfyUI is running and --comfyui-url is right.`,
        { cause },
      )
    }
  }

  async #json(response: Response, what: string): Promise<unknown> {
    const text = await response.text()
    if (text === '') return {}
    try {
      return JSON.parse(text)
    } catch (cause) {
      throw new MockWorkerError(
        'COMFYUI_PROTOCOL',
        `ComfyUI answered ${what} with a body that is not JSON (HTTP ${response.status}).`,
        { cause },
      )
    }
  }

  /** POST /prompt; a rejected prompt is COMFYUI_VALIDATION naming node and input. */
  async postPrompt(prompt: ApiPrompt, clientId: string): Promise<PromptAccepted> {
    const response = await this.#request('/prompt', { method: 'POST', body: { prompt, client_id: clientId } })
    if (response.status === 413) {
      await response.body?.cancel()
      throw new MockWorkerError(
        'PAYLOAD_TOO_LARGE',
        'ComfyUI refused the prompt as too large (HTTP 413): the inputs travel inside it as JSON text; start ComfyUI with a larger --max-upload-size (in MB) or send smaller inputs.',
      )
    }
    const body = (await this.#json(response, 'POST /prompt')) as Record<string, unknown>
    if (response.status === 400) {
      const error = (body.error ?? {}) as { type?: string; message?: string; details?: string }
      const nodeErrors = (body.node_errors ?? {}) as Record<string, unknown>
      const lines = describeNodeErrors(nodeErrors)
      const head = error.message ?? 'ComfyUI rejected the prompt'
      const extra = lines.length > 0 ? `: ${lines.join('; ')}` : error.details ? ` (${error.details})` : ''
      throw new MockWorkerError('COMFYUI_VALIDATION', `ComfyUI rejected the prompt: ${head}${extra}`, {
        details: { type: error.type, node_errors: nodeErrors },
      })
    }
    if (!response.ok || typeof body.prompt_id !== 'string') {
      throw new MockWorkerError(
        'COMFYUI_PROTOCOL',
        `ComfyUI answered POST /prompt with HTTP ${response.status} and no prompt_id.`,
        {
          details: body,
        },
      )
    }
    return body as unknown as PromptAccepted
  }

  /** GET /history/<id>: the entry, or undefined while it is not finished. */
  async history(promptId: string): Promise<HistoryEntry | undefined> {
    const response = await this.#request(`/history/${encodeURIComponent(promptId)}`)
    const body = (await this.#json(response, 'GET /history')) as Record<string, unknown>
    return body[promptId] as HistoryEntry | undefined
  }

  async deleteHistory(promptId: string): Promise<void> {
    await (await this.#request('/history', { method: 'POST', body: { delete: [promptId] } })).arrayBuffer()
  }

  async interrupt(promptId: string): Promise<void> {
    await (await this.#request('/interrupt', { method: 'POST', body: { prompt_id: promptId } })).arrayBuffer()
  }

  async deleteFromQueue(promptId: string): Promise<void> {
    await (await this.#request('/queue', { method: 'POST', body: { delete: [promptId] } })).arrayBuffer()
  }

  /** Where a prompt is in ComfyUI's queue. */
  async queueState(promptId: string): Promise<'running' | 'pending' | 'absent'> {
    const body = (await this.#json(await this.#request('/queue'), 'GET /queue')) as {
      queue_running?: unknown[][]
      queue_pending?: unknown[][]
    }
    if ((body.queue_running ?? []).some((item) => item[1] === promptId)) return 'running'
    if ((body.queue_pending ?? []).some((item) => item[1] === promptId)) return 'pending'
    return 'absent'
  }

  async systemStats(): Promise<void> {
    const response = await this.#request('/system_stats', {}, 2_000)
    await response.arrayBuffer()
    if (!response.ok)
      throw new MockWorkerError(
        'COMFYUI_UNAVAILABLE',
        `ComfyUI answered /system_stats with HTTP ${response.status}.`,
      )
  }
}
