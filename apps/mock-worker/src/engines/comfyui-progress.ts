import type { ProgressNode } from '../job.js'
import type { ApiPrompt } from '../workflow.js'
import type { ComfyMessage } from './comfyui-socket.js'

export interface FoldedProgress {
  value: number
  max: number
  message?: string
  /** The node running or reporting steps, with its class (per-node progress). */
  node?: ProgressNode
}

const clamp01 = (n: number): number => (Number.isFinite(n) ? Math.min(1, Math.max(0, n)) : 0)

/**
 * Folds the progress of every node of one prompt into one job progress:
 * each node is one unit (finished or cached = 1, running = its value/max),
 * reported as a percentage (value 0..100 of max 100). The message is the
 * latest progress text of the running node, else its class and step.
 */
export class ProgressFolder {
  readonly #prompt: ApiPrompt
  readonly #total: number
  readonly #done = new Map<string, number>()
  #current: string | undefined
  #message: string | undefined
  #node: string | undefined

  constructor(prompt: ApiPrompt) {
    this.#prompt = prompt
    this.#total = Math.max(1, Object.keys(prompt).length)
  }

  #set(node: string, fraction: number): void {
    const before = this.#done.get(node) ?? 0
    this.#done.set(node, Math.max(before, clamp01(fraction)))
  }

  #title(node: string): string {
    const entry = this.#prompt[node]
    return entry?._meta?.title ?? entry?.class_type ?? `node ${node}`
  }

  /** The node a progress report is about: id and class. */
  node(id: string | undefined = this.#node): ProgressNode | undefined {
    if (id === undefined) return undefined
    const classType = this.#prompt[id]?.class_type
    return classType === undefined ? { id } : { id, classType }
  }

  #steps(node: string, value: number, max: number): void {
    this.#node = node
    this.#message = `${this.#title(node)} ${value}/${max}`
  }

  #label(node: string): string {
    const entry = this.#prompt[node]
    const title = entry?._meta?.title ?? entry?.class_type
    return title === undefined ? `node ${node}` : `${title} (node ${node})`
  }

  /** Apply one ws message; returns the new progress when it changed. */
  apply(message: ComfyMessage): FoldedProgress | undefined {
    const data = message.data
    const before = this.snapshot()
    switch (message.type) {
      case 'execution_cached':
        for (const node of Array.isArray(data.nodes) ? data.nodes : []) this.#set(String(node), 1)
        break
      case 'executing': {
        if (this.#current !== undefined) this.#set(this.#current, 1)
        this.#current = typeof data.node === 'string' ? data.node : undefined
        if (this.#current !== undefined) {
          this.#node = this.#current
          this.#message = `running ${this.#label(this.#current)}`
        }
        break
      }
      case 'executed':
        if (typeof data.node === 'string') this.#set(data.node, 1)
        break
      case 'progress': {
        const node = typeof data.node === 'string' ? data.node : this.#current
        const value = Number(data.value)
        const max = Number(data.max)
        if (node !== undefined && max > 0) {
          this.#set(node, value / max)
          this.#steps(node, value, max)
        }
        break
      }
      case 'progress_state': {
        const nodes = (data.nodes ?? {}) as Record<string, { value?: number; max?: number; state?: string }>
        for (const [node, state] of Object.entries(nodes)) {
          if (state.state === 'finished') this.#set(node, 1)
          else if (typeof state.value === 'number' && typeof state.max === 'number' && state.max > 0) {
            this.#set(node, state.value / state.max)
            if (state.state === 'running' && state.max > 1) this.#steps(node, state.value, state.max)
          }
        }
        break
      }
      case 'progress_text':
        if (typeof data.text === 'string' && data.text !== '') this.#message = data.text
        break
      default:
        return undefined
    }
    const after = this.snapshot()
    return after.value !== before.value ||
      after.message !== before.message ||
      after.node?.id !== before.node?.id
      ? after
      : undefined
  }

  snapshot(): FoldedProgress {
    let sum = 0
    for (const fraction of this.#done.values()) sum += fraction
    const value = Math.min(100, Math.floor((100 * sum) / this.#total))
    const out: FoldedProgress = { value, max: 100 }
    if (this.#message !== undefined) out.message = this.#message
    const node = this.node()
    if (node !== undefined) out.node = node
    return out
  }
}
