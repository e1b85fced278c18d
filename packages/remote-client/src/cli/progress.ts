import type { JobEnvelope, JobStatus, Timings } from '@comfy-remote/protocol'
import type { ProgressInfo } from '../follow.js'

export interface ProgressView {
  status(status: JobStatus, env: JobEnvelope): void
  progress(p: ProgressInfo): void
  /** Ends the live line (call before printing anything else). */
  done(): void
}

interface Stream {
  write(text: string): unknown
  isTTY?: boolean
  columns?: number
}

const WIDTH = 24

/** Strips control characters from server text before it reaches the terminal. */
function clean(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ')
}

/**
 * `timings: queue 0.8 s, start-up 0 s, run 12.4 s, transfer 0.3 s` for the final line; a cold start
 * says so after its start-up: `start-up 3.1 s (cold start, restored from snapshot)`.
 */
export function timingsLine(t: Timings): string {
  const s = (n: number) => `${Number(n.toFixed(2))} s`
  const cold = !t.cold_start
    ? ''
    : t.restored_from_snapshot
      ? ' (cold start, restored from snapshot)'
      : ' (cold start)'
  return `timings: queue ${s(t.queue_seconds)}, start-up ${s(t.startup_seconds)}${cold}, run ${s(t.run_seconds)}, transfer ${s(t.transfer_seconds)}`
}

export function bar(p: ProgressInfo): string {
  const ratio = p.max > 0 ? Math.min(1, Math.max(0, p.value / p.max)) : 0
  const filled = Math.round(ratio * WIDTH)
  const count = Number.isInteger(p.value) && Number.isInteger(p.max) ? ` ${p.value}/${p.max}` : ''
  return `[${'#'.repeat(filled)}${'-'.repeat(WIDTH - filled)}] ${String(Math.round(ratio * 100)).padStart(3)}%${count}`
}

/** A live one-line bar on a TTY, plain lines otherwise (for logs and pipes). */
export function createProgressView(out: Stream): ProgressView {
  const live = out.isTTY === true
  let line = ''
  let status: JobStatus | undefined
  let jobId: string | undefined
  const draw = (text: string): void => {
    const width = Math.max(20, (out.columns || 80) - 1)
    line = text.length > width ? `${text.slice(0, width - 3)}...` : text
    out.write(`\r\u001b[2K${line}`)
  }
  return {
    status(next, env) {
      status = next
      jobId = env.jobId ?? jobId
      const queued = env.queuePosition !== undefined ? ` (queue position ${env.queuePosition})` : ''
      if (live) draw(`${next}${jobId ? ` ${jobId}` : ''}${queued}`)
      else out.write(`status ${next}${jobId ? ` job=${jobId}` : ''}${queued}\n`)
    },
    progress(p) {
      const node =
        p.node === undefined
          ? ''
          : ` (node ${clean(p.node)}${p.message || !p.classType ? '' : ` ${clean(p.classType)}`})`
      const message = `${p.message ? ` ${clean(p.message)}` : ''}${node}`
      if (live) draw(`${status ?? 'running'} ${bar(p)}${message}`)
      else out.write(`progress ${p.value}/${p.max}${message}\n`)
    },
    done() {
      if (live && line !== '') out.write('\n')
      line = ''
    },
  }
}
