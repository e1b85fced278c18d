import { type ChildProcess, spawn } from 'node:child_process'
import { BRIDGE, type Event } from './bridge.js'

export interface ServeBridge {
  child: ChildProcess
  events: Event[]
  /** Writes one request line (an object is JSON-encoded; a string is sent as is). */
  send(request: unknown): void
  /** Resolves with the first event matching `pred` (rejects after `ms`). */
  waitFor(pred: (e: Event) => boolean, ms?: number): Promise<Event>
  /** Closes stdin (the bridge cancels what is in flight and exits). */
  end(): void
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; events: Event[]; stderr: string }>
}

const running = new Set<ChildProcess>()

/** Starts `node bridge/bridge.mjs --serve` with stdin left open. */
export function startServe(timeoutMs = 30_000): ServeBridge {
  const child = spawn(process.execPath, [BRIDGE, '--serve'], { stdio: ['pipe', 'pipe', 'pipe'] })
  running.add(child)
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
  const done = new Promise<{
    code: number | null
    signal: NodeJS.Signals | null
    events: Event[]
    stderr: string
  }>((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(killer)
      running.delete(child)
      resolve({ code, signal, events, stderr })
    })
  })
  return {
    child,
    events,
    done,
    send(request) {
      child.stdin?.write(typeof request === 'string' ? request : `${JSON.stringify(request)}\n`)
    },
    end() {
      child.stdin?.end()
    },
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

/** Kills serve bridges a failed test left behind (afterAll). */
export function killServeBridges() {
  for (const child of running) child.kill('SIGKILL')
}
