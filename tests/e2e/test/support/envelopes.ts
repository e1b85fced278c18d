// Comparing envelopes across runs: job ids (and anything that embeds them) differ per run, values are
// compared as JSON values (key order never matters), binary data as base64.
import { serializeJson } from '@comfy-remote/protocol'

const TIME_KEYS = /(^|_)(created|started|finished|updated)(_at)?$|^elapsed|^timings$/

/** Replaces the job id everywhere with `<job_id>` and drops timestamps, so two runs compare equal. */
export function normalizeEnvelope(envelope: unknown): unknown {
  const value = JSON.parse(typeof envelope === 'string' ? envelope : serializeJson(envelope)) as Record<
    string,
    unknown
  >
  const jobId = typeof value.job_id === 'string' ? value.job_id : undefined
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return jobId ? v.split(jobId).join('<job_id>') : v
    if (Array.isArray(v)) return v.map(walk)
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {}
      for (const [k, inner] of Object.entries(v)) if (!TIME_KEYS.test(k)) out[k] = walk(inner)
      return out
    }
    return v
  }
  return walk(value)
}

/** An encoded value (or a map of them) as plain JSON with binary data as base64. */
export function asJson(value: unknown): unknown {
  return JSON.parse(serializeJson(value))
}
