#!/usr/bin/env node
// Entry of bridge/bridge.mjs: one JSON request on stdin, NDJSON events on stdout.
import { main } from './main.js'

/** COMFY_REMOTE_BRIDGE_STATS=1: one `bridge-stats {"maxRssBytes":...}` line on stderr at exit (benchmarks). */
function reportStats() {
  if (process.env.COMFY_REMOTE_BRIDGE_STATS !== '1') return
  const maxRssBytes = process.resourceUsage().maxRSS * 1024
  process.stderr.write(`bridge-stats ${JSON.stringify({ maxRssBytes })}\n`)
}

process.on('exit', reportStats)

main().then(
  // main() flushed stdout (pipes are synchronous on POSIX); keep-alive sockets must not hold the process.
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bridge: ${String(error)}\n`)
    process.exit(1)
  },
)
