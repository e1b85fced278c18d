import type { ChildProcess } from 'node:child_process'

export type Event = Record<string, unknown> & { event: string }

export interface BridgeOutcome {
  code: number | null
  signal: NodeJS.Signals | null
  events: Event[]
  stderr: string
}

export interface EventStream {
  events: Event[]
  /** Resolves with the first event matching `pred` (rejects after `ms`). */
  waitFor(pred: (e: Event) => boolean, ms?: number): Promise<Event>
  done: Promise<BridgeOutcome>
}

/**
 * Collects a bridge child's NDJSON events from stdout and its stderr, kills it with SIGKILL after
 * `timeoutMs`, and removes it from `running` once it has closed.
 */
export function watchEvents(child: ChildProcess, timeoutMs: number, running: Set<ChildProcess>): EventStream {
  const events: Event[] = []
  const waiters = new Set<{ pred: (e: Event) => boolean; resolve: (e: Event) => void }>()
  let buffer = ''
  let stderr = ''
  child.stdout?.setEncoding('utf8')
  child.stdout?.on('data', (chunk: string) => {
    buffer += chunk
    for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
      const line = buffer.slice(0, nl)
      buffer = buffer.slice(nl + 1)
      if (!line.trim()) continue
      const event = JSON.parse(line) as Event
      events.push(event)
      for (const w of [...waiters]) {
        if (w.pred(event)) {
          waiters.delete(w)
          w.resolve(event)
        }
      }
    }
  })
  child.stderr?.setEncoding('utf8')
  child.stderr?.on('data', (chunk: string) => {
    stderr += chunk
  })
  const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
  const done = new Promise<BridgeOutcome>((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(killer)
      running.delete(child)
      resolve({ code, signal, events, stderr })
    })
  })
  return {
    events,
    done,
    waitFor(pred, ms = 10_000) {
      const found = events.find(pred)
      if (found) return Promise.resolve(found)
      return new Promise((resolve, reject) => {
        const waiter = {
          pred,
          resolve: (e: Event) => {
            clearTimeout(t)
            resolve(e)
          },
        }
        const t = setTimeout(() => {
          waiters.delete(waiter)
          reject(new Error(`no matching event within ${ms} ms; got ${JSON.stringify(events)}`))
        }, ms)
        waiters.add(waiter)
      })
    },
  }
}
