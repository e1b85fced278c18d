import type { JobStatus, Progress } from './schemas.js'
import { type Dict, isDict, toFiniteNumber } from './util.js'

const STATUS_SYNONYMS: Record<string, JobStatus> = {
  pending: 'pending',
  queued: 'pending',
  running: 'running',
  processing: 'running',
  in_progress: 'running',
  completed: 'completed',
  complete: 'completed',
  done: 'completed',
  success: 'completed',
  failed: 'failed',
  error: 'failed',
  cancelled: 'cancelled',
  canceled: 'cancelled',
  aborted: 'cancelled',
}

/** Maps every status word the original knew (case-insensitive) to a JobStatus; undefined otherwise. */
export function normalizeStatus(raw: unknown): JobStatus | undefined {
  if (typeof raw !== 'string') return undefined
  const key = raw.trim().toLowerCase()
  return Object.hasOwn(STATUS_SYNONYMS, key) ? STATUS_SYNONYMS[key] : undefined
}

function clamp(value: number, max: number): Progress {
  return { value: Math.min(Math.max(value, 0), max), max }
}

/** value out of 1 when the number is within 0..1, else out of 100. */
function fromBare(n: number): Progress {
  return n >= 0 && n <= 1 ? { value: n, max: 1 } : clamp(n, 100)
}

function fromObject(obj: Dict): Progress | undefined {
  const value = toFiniteNumber(obj.value)
  if (value !== undefined) {
    for (const key of ['max', 'total', 'goal']) {
      const max = toFiniteNumber(obj[key])
      if (max !== undefined && max !== 0) return max > 0 ? clamp(value, max) : undefined
    }
  }
  const percent = toFiniteNumber(obj.percent) ?? toFiniteNumber(obj.percentage)
  if (percent !== undefined) return percent <= 1 ? clamp(percent, 1) : clamp(percent, 100)
  const ratio = toFiniteNumber(obj.ratio)
  if (ratio !== undefined) return clamp(ratio, 1)
  return undefined
}

/**
 * The original's progress rules: `{value, max|total|goal}` (non-zero), else `percent`/`percentage`
 * (<= 1 is a fraction, else out of 100), else `ratio` (fraction); a bare number within 0..1 is a
 * fraction, else out of 100. The value is clamped into 0..max; junk gives undefined.
 */
export function normalizeProgress(raw: unknown): Progress | undefined {
  if (isDict(raw)) return fromObject(raw)
  const n = toFiniteNumber(raw)
  return n === undefined ? undefined : fromBare(n)
}
