// Helpers shared by the node pack's benchmarks (bench/*.mjs): medians, child processes, peak RSS.
import { spawn } from 'node:child_process'
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}
export const ms = (x) => `${x.toFixed(1)} ms`
export const mib = (bytes) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

// Per-call memory: processes started with memEnv(dir) (`--expose-gc --require <preload>`) run, on
// SIGUSR2, a full GC, reset the kernel's peak-RSS mark (/proc/self/clear_refs = 5) and write their RSS
// to a mark file. VmHWM after the calls minus that RSS = the peak growth during those calls.
// Bench-only: the packages know nothing about it.
const PRELOAD = `const fs = require('node:fs')
process.on('SIGUSR2', () => {
  if (typeof globalThis.gc === 'function') { globalThis.gc(); globalThis.gc() }
  try { fs.writeFileSync('/proc/self/clear_refs', '5') } catch {}
  const rss = Number(/VmRSS:\\s+(\\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0) * 1024
  fs.writeFileSync(process.env.CR_BENCH_MARK_DIR + '/mark-' + process.pid, String(rss))
})
`

export function memEnv(dir) {
  const preload = join(dir, 'gc-preload.cjs')
  if (!existsSync(preload)) writeFileSync(preload, PRELOAD)
  return { NODE_OPTIONS: `--expose-gc --require ${preload}`, CR_BENCH_MARK_DIR: dir }
}

export function procStatus(pid, field) {
  try {
    const kb = new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]
    return kb ? Number(kb) * 1024 : null
  } catch {
    return null
  }
}

/** GC the process and reset its peak-RSS mark; resolves with its RSS after the GC (null without /proc). */
export async function markMemory(pid, dir) {
  const mark = join(dir, `mark-${pid}`)
  rmSync(mark, { force: true })
  try {
    process.kill(pid, 'SIGUSR2')
  } catch {
    return null
  }
  for (let i = 0; i < 250; i++) {
    if (existsSync(mark)) {
      const text = readFileSync(mark, 'utf8')
      if (text !== '') return Number(text)
    }
    await sleep(20)
  }
  return null
}

/** Peak RSS growth since `markMemory` (the peak may be the post-GC RSS itself if nothing grew). */
export function peakGrowth(pid, base) {
  const hwm = procStatus(pid, 'VmHWM')
  return hwm === null || base === null ? null : Math.max(0, hwm - base)
}

/**
 * Starts the mock worker (`apps/mock-worker/dist/cli.js`) on a free port with `args`; resolves with its
 * URL, pid and stop(). `env` is added to the environment (memEnv for memory marks).
 */
export async function startMockWorker(cli, args, env = {}) {
  const child = spawn(process.execPath, [cli, '--port', '0', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let err = ''
  child.stderr.on('data', (c) => {
    err = (err + c).slice(-4000)
  })
  const url = await new Promise((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => reject(new Error(`mock worker did not start within 20 s: ${err}`)), 20_000)
    child.on('exit', (code) => reject(new Error(`mock worker exited ${code}: ${err}`)))
    child.stdout.on('data', (c) => {
      out += c
      const m = /listening on (http:\/\/\S+)/.exec(out)
      if (m) {
        clearTimeout(timer)
        resolve(m[1])
      }
    })
  })
  return { url, pid: child.pid, stderr: () => err, stop: () => child.kill('SIGTERM') }
}
