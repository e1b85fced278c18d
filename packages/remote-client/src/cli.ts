#!/usr/bin/env node
import { main } from './cli/main.js'

const controller = new AbortController()
let interrupted = 0
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    interrupted++
    if (interrupted > 1) process.exit(130)
    controller.abort()
  })
}

main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  signal: controller.signal,
}).then(
  (code) => {
    process.exitCode = code
  },
  (error: unknown) => {
    process.stderr.write(`comfy-remote: ${String(error)}\n`)
    process.exitCode = 1
  },
)
