#!/usr/bin/env node
// Entry of bridge/bridge.mjs. One-shot: one JSON request on stdin, NDJSON events on stdout.
// `--serve`: a long-lived process, NDJSON requests with ids on stdin (see serve.ts).
import { readFileSync } from 'node:fs'
import { main } from './main.js'
import { serve } from './serve.js'

/**
 * Peak RSS of this process. Linux: VmHWM (this process's own memory); `resourceUsage().maxRSS` there
 * starts from the parent's RSS at fork time, so a big parent inflates it.
 */
function peakRssBytes(): number {
  try {
    const kb = /VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]
    if (kb !== undefined) return Number(kb) * 1024
  } catch {
    // no /proc (macOS, Windows)
  }
  return process.resourceUsage().maxRSS * 1024
}

/** COMFY_REMOTE_BRIDGE_STATS=1: one `bridge-stats {"maxRssBytes":...}` line on stderr at exit (benchmarks). */
function reportStats() {
  if (process.env.COMFY_REMOTE_BRIDGE_STATS !== '1') return
  process.stderr.write(`bridge-stats ${JSON.stringify({ maxRssBytes: peakRssBytes() })}\n`)
}

process.on('exit', reportStats)

const serving = process.argv.slice(2).includes('--serve')
if (serving) {
  // One request's stray rejection must not take down the others.
  process.on('unhandledRejection', (error) => {
    process.stderr.write(`bridge: unhandled rejection: ${String(error)}\n`)
  })
}

;(serving ? serve() : main()).then(
  // stdout is flushed (pipes are synchronous on POSIX); keep-alive sockets must not hold the process.
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bridge: ${String(error)}\n`)
    process.exit(1)
  },
)
