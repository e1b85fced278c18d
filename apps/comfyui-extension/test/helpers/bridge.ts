import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type Event, type EventStream, watchEvents } from './events.js'

export const PACK_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const BRIDGE = join(PACK_DIR, 'bridge', 'bridge.mjs')

if (!existsSync(BRIDGE))
  throw new Error(`${BRIDGE} is missing: run "pnpm --filter @comfy-remote/comfyui-extension build" first`)

export type { Event }

export interface BridgeRun extends EventStream {
  child: ChildProcess
}

const running = new Set<ChildProcess>()

/** Starts `node bridge/bridge.mjs`, writes the request line, closes stdin, collects NDJSON events. */
export function startBridge(request: unknown, env: NodeJS.ProcessEnv = {}, timeoutMs = 20_000): BridgeRun {
  const child = spawn(process.execPath, [BRIDGE], {
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  running.add(child)
  const stream = watchEvents(child, timeoutMs, running)
  child.stdin?.end(typeof request === 'string' ? request : `${JSON.stringify(request)}\n`)
  return { child, ...stream }
}

/** Runs one request to the end. */
export function runBridge(request: unknown, env?: NodeJS.ProcessEnv, timeoutMs?: number) {
  return startBridge(request, env, timeoutMs).done
}

/** Kills bridges a failed test left behind (afterAll). */
export function killBridges() {
  for (const child of running) child.kill('SIGKILL')
}
