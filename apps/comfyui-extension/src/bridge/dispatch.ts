import type { EventSink } from './events.js'
import type { BridgeRequest } from './request.js'

declare const __BRIDGE_VERSION__: string | undefined

/** Bridge version, injected by scripts/build.mjs from package.json. */
export const BRIDGE_VERSION = typeof __BRIDGE_VERSION__ === 'string' ? __BRIDGE_VERSION__ : '0.0.0-dev'

/** Runs one parsed request; its events (and its `result`) go to `sink`. Shared by one-shot and serve mode. */
export async function dispatch(req: BridgeRequest, sink: EventSink, signal: AbortSignal): Promise<void> {
  switch (req.op) {
    case 'ping':
      sink.emit({ event: 'result', version: BRIDGE_VERSION, node: process.version })
      return
    case 'run':
      return (await import('./run.js')).runOp(req, sink, signal)
    case 'schema':
      return (await import('./run.js')).schemaOp(req, sink, signal)
    case 'deploy':
      return (await import('./deploy.js')).deployOp(req, sink, signal)
  }
}
