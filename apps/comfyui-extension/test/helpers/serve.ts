import { type ChildProcess, spawn } from 'node:child_process'
import { BRIDGE } from './bridge.js'
import { type EventStream, watchEvents } from './events.js'

export interface ServeBridge extends EventStream {
  child: ChildProcess
  /** Writes one request line (an object is JSON-encoded; a string is sent as is). */
  send(request: unknown): void
  /** Closes stdin (the bridge cancels what is in flight and exits). */
  end(): void
}

const running = new Set<ChildProcess>()

/** Starts `node bridge/bridge.mjs --serve` with stdin left open. */
export function startServe(timeoutMs = 30_000): ServeBridge {
  const child = spawn(process.execPath, [BRIDGE, '--serve'], { stdio: ['pipe', 'pipe', 'pipe'] })
  running.add(child)
  return {
    child,
    ...watchEvents(child, timeoutMs, running),
    send(request) {
      child.stdin?.write(typeof request === 'string' ? request : `${JSON.stringify(request)}\n`)
    },
    end() {
      child.stdin?.end()
    },
  }
}

/** Kills serve bridges a failed test left behind (afterAll). */
export function killServeBridges() {
  for (const child of running) child.kill('SIGKILL')
}
