import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const PACK_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const BRIDGE = join(PACK_DIR, 'bridge', 'bridge.mjs')

if (!existsSync(BRIDGE))
  throw new Error(`${BRIDGE} is missing: run "pnpm --filter @comfy-remote/comfyui-extension build" first`)

export type Event = Record<string, unknown> & { event: string }

export interface BridgeRun {
  child: ChildProcess
  events: Event[]
  /** Resolves with the first event matching `pred` (rejects after `ms`). */
  waitFor(pred: (e: Event) => boolean, ms?: number): Promise<Event>
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; events: Event[]; stderr: string }>
}

const running = new Set<ChildProcess>()

/** Starts `node bridge/bridge.mjs`, writes the request line, closes stdin, collects NDJSON events. */
export function startBridge(request: unknown, env: NodeJS.ProcessEnv = {}, timeoutMs = 20_000): BridgeRun {
  const child = spawn(process.execPath, [BRIDGE], {
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  running.add(child)
  const events: Event[] = []
  const waiters: { pred: (e: Event) => boolean; resolve: (e: Event) => void; reject: (e: Error) => void }[] =
    []
  let stdout = ''
  let stderr = ''
  child.stdout?.setEncoding('utf8')
  child.stdout?.on('data', (chunk: string) => {
    stdout += chunk
    let nl = stdout.indexOf('\n')
    while (nl >= 0) {
      const line = stdout.slice(0, nl)
      stdout = stdout.slice(nl + 1)
      nl = stdout.indexOf('\n')
      if (!line.trim()) continue
      const event = JSON.parse(line) as Event
      events.push(event)
      for (const w of [...waiters]) {
        if (w.pred(event)) {
          waiters.splice(waiters.indexOf(w), 1)
          w.resolve(event)
        }
      }
    }
  })
  child.stderr?.setEncoding('utf8')
  child.stderr?.on('data', (chunk: string) => {
    stderr += chunk
  })
  child.stdin?.end(typeof request === 'string' ? request : `${JSON.stringify(request)}\n`)
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
    waitFor(pred, ms = 10_000) {
      const found = events.find(pred)
      if (found) return Promise.resolve(found)
      return new Promise((resolve, reject) => {
        const t = setTimeout(
          () => reject(new Error(`no matching event within ${ms} ms; got ${JSON.stringify(events)}`)),
          ms,
        )
        waiters.push({
          pred,
          resolve: (e) => {
            clearTimeout(t)
            resolve(e)
          },
          reject: (e) => {
            clearTimeout(t)
            reject(e)
          },
        })
      })
    },
  }
}

/** Runs one request to the end. */
export function runBridge(request: unknown, env?: NodeJS.ProcessEnv, timeoutMs?: number) {
  return startBridge(request, env, timeoutMs).done
}

/** Kills bridges a failed test left behind (afterAll). */
export function killBridges() {
  for (const child of running) child.kill('SIGKILL')
}
