// A caller that behaves like the original comfy-remote Remote API node (PROTOCOL-COMPAT.md): it posts
// the list-form request to the endpoint itself, then reads responses only by the original's rules
// (status or state, synonyms, poll_url/status_url/next/poll resolved against the request URL,
// retry_in/retry_after/poll_interval/interval, result/output/data). Bounded by a deadline.

const DONE = new Set(['completed', 'complete', 'done', 'success'])
const GOING = new Set(['pending', 'queued', 'running', 'processing', 'in_progress'])
const FAILED = new Set(['failed', 'error', 'cancelled', 'aborted'])

type Body = Record<string, unknown>
const isObject = (v: unknown): v is Body => typeof v === 'object' && v !== null && !Array.isArray(v)
const firstString = (b: Body, keys: string[]) =>
  keys.map((k) => b[k]).find((v): v is string => typeof v === 'string' && v !== '')
const firstNumber = (b: Body, keys: string[]) =>
  keys.map((k) => b[k]).find((v): v is number => typeof v === 'number')

export interface OriginalOutcome {
  /** Every response body, in order. */
  bodies: Body[]
  /** HTTP status of every response. */
  statuses: number[]
  /** The result as the original read it (first of result/output/data that is an object). */
  result: Body
  /** Progress fractions read by the original's rules. */
  progress: number[]
}

function progressOf(body: Body): number | undefined {
  const p = body.progress
  if (typeof p === 'number') return p <= 1 ? p : p / 100
  if (!isObject(p)) return undefined
  const max = firstNumber(p, ['max', 'total', 'goal'])
  if (typeof p.value === 'number' && max) return p.value / max
  return undefined
}

export async function originalCall(
  url: string,
  request: Body,
  deadlineMs = 30_000,
): Promise<OriginalOutcome> {
  const until = Date.now() + deadlineMs
  const bodies: Body[] = []
  const statuses: number[] = []
  const progress: number[] = []
  let res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(request),
    signal: AbortSignal.timeout(deadlineMs),
  })
  for (;;) {
    statuses.push(res.status)
    const text = await res.text()
    if (res.status >= 400) throw new Error(`HTTP ${res.status}: ${text}`)
    const body = (text === '' ? {} : JSON.parse(text)) as Body
    bodies.push(body)
    const fraction = progressOf(body)
    if (fraction !== undefined) progress.push(fraction)
    const status = String(body.status ?? body.state ?? '').toLowerCase()
    const result = [body.result, body.output, body.data].find(isObject)
    if (DONE.has(status) || (!GOING.has(status) && !FAILED.has(status) && result)) {
      return { bodies, statuses, result: result ?? body, progress }
    }
    if (FAILED.has(status)) throw new Error(`job ${status}: ${JSON.stringify(body.error ?? body.message)}`)
    const poll = firstString(body, ['poll_url', 'status_url', 'next', 'poll'])
    if (!poll) throw new Error(`pending without a poll URL: ${text}`)
    if (Date.now() > until) throw new Error(`no result within ${deadlineMs} ms`)
    const delay = Math.max(
      0.1,
      firstNumber(body, ['retry_in', 'retry_after', 'poll_interval', 'interval']) ?? 1.5,
    )
    await new Promise((r) => setTimeout(r, Math.min(delay, 0.2) * 1000))
    res = await fetch(new URL(poll, url), { signal: AbortSignal.timeout(deadlineMs) })
  }
}

/** The original node's list form: `input_1..N`, `input_order`, the node and the calling workflow. */
export function originalRequest(values: Array<Body | undefined>): Body {
  const inputs: Body[] = []
  values.forEach((value, i) => {
    if (value) inputs.push({ name: `input_${i + 1}`, metadata: null, ...value })
  })
  return {
    node: { id: '17', name: 'Remote API' },
    inputs,
    input_order: inputs.map((i) => i.name),
    workflow: { '17': { class_type: 'ComfyRemoteNode', inputs: { url: 'http://example.invalid' } } },
    extra_pnginfo: { workflow: { nodes: [] } },
  }
}
