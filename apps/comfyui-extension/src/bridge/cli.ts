#!/usr/bin/env node
// Entry of bridge/bridge.mjs: one JSON request on stdin, NDJSON events on stdout.
import { main } from './main.js'

main().then(
  (code) => {
    process.exitCode = code
    // Open sockets (keep-alive agents) must not keep a finished bridge alive.
    setTimeout(() => process.exit(code), 50).unref()
  },
  (error: unknown) => {
    process.stderr.write(`bridge: ${String(error)}\n`)
    process.exit(1)
  },
)
