import type { Job } from './job.js'

type Listener = () => void

/** Per-job change listeners, and bounded waits on them (long-poll, SSE, POST ?wait=). */
export class JobEvents {
  readonly #listeners = new Map<string, Set<Listener>>()

  /** Calls `listener` after every change of the job; returns the unsubscribe function. */
  subscribe(id: string, listener: Listener): () => void {
    let set = this.#listeners.get(id)
    if (set === undefined) {
      set = new Set()
      this.#listeners.set(id, set)
    }
    set.add(listener)
    return () => {
      set.delete(listener)
      if (set.size === 0 && this.#listeners.get(id) === set) this.#listeners.delete(id)
    }
  }

  /** Resolves when `until(job)` holds (checked after every change) or after `timeoutMs`. */
  waitFor(job: Job, until: (job: Job) => boolean, timeoutMs: number): Promise<void> {
    if (until(job) || timeoutMs <= 0) return Promise.resolve()
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer)
        unsubscribe()
        resolve()
      }
      const timer = setTimeout(done, timeoutMs)
      const unsubscribe = this.subscribe(job.id, () => {
        if (until(job)) done()
      })
    })
  }

  notify(id: string): void {
    const set = this.#listeners.get(id)
    if (set === undefined) return
    for (const listener of [...set]) listener()
  }

  /** Wake every listener one last time, then forget them all. */
  clear(): void {
    for (const id of [...this.#listeners.keys()]) this.notify(id)
    this.#listeners.clear()
  }
}
