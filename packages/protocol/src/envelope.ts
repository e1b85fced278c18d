import { ProtocolError } from './errors.js'
import { assertJsonDepth } from './json-depth.js'
import { toResultValue } from './result.js'
import {
  type EncodedValue,
  type ErrorInfo,
  type JobEnvelope,
  type JobEnvelopeWire,
  type JobStatus,
  zTimings,
  zWebhookStatus,
} from './schemas.js'
import { normalizeProgress, normalizeStatus } from './status.js'
import { type Dict, firstNumber, firstText, isDict, setOwn } from './util.js'

const TEXT_KEYS = ['message', 'status_text', 'detail', 'description'] as const
const PROGRESS_TEXT_KEYS = ['message', 'detail', 'description', 'stage'] as const
const POLL_URL_KEYS = ['poll_url', 'status_url', 'next', 'poll', 'pollUrl'] as const
const DELAY_KEYS = ['retry_in', 'retry_after', 'poll_interval', 'interval', 'retryAfter'] as const
const ERROR_TEXT_KEYS = ['detail', 'message', 'status_text'] as const
const MIN_DELAY = 0.1

function toBody(body: unknown): Dict {
  if (body === undefined) return {}
  let value = body
  if (value instanceof Uint8Array) value = new TextDecoder().decode(value)
  if (typeof value === 'string') {
    const text = value
    if (text.trim() === '') return {}
    try {
      value = JSON.parse(text)
    } catch (cause) {
      throw new ProtocolError(
        'BAD_ENVELOPE',
        `The worker answered with text that is not JSON: ${text.slice(0, 200)}`,
        {
          cause,
        },
      )
    }
  }
  assertJsonDepth(value, 'envelope', 'BAD_ENVELOPE')
  if (!isDict(value)) {
    throw new ProtocolError(
      'BAD_ENVELOPE',
      `The worker answered with JSON that is not an object (${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}); expected a job envelope.`,
    )
  }
  return value
}

function resolveUrl(url: string, base: string | undefined): string {
  if (base === undefined) return url
  try {
    return new URL(url, base).href
  } catch {
    return url
  }
}

/** True when the body carries a result by the original's rule. */
function hasResult(body: Dict): boolean {
  return isDict(body.result) || isDict(body.output) || Object.hasOwn(body, 'data')
}

function progressText(body: Dict): string | undefined {
  const top = firstText(body, TEXT_KEYS)
  if (top !== undefined) return top
  return isDict(body.progress) ? firstText(body.progress, PROGRESS_TEXT_KEYS) : undefined
}

function errorInfo(body: Dict, status: JobStatus, text: string | undefined): ErrorInfo {
  const raw = body.error
  const fallbackCode = status === 'cancelled' ? 'CANCELLED' : 'JOB_FAILED'
  let code = fallbackCode
  let message: string | undefined
  let details: unknown
  if (typeof raw === 'string' && raw.trim() !== '') message = raw
  else if (isDict(raw)) {
    if (typeof raw.code === 'string' && raw.code !== '') code = raw.code
    if (typeof raw.message === 'string' && raw.message.trim() !== '') message = raw.message
    details = raw.details
  }
  message ??= firstText(body, ERROR_TEXT_KEYS) ?? text
  message ??=
    status === 'cancelled'
      ? 'The remote job was cancelled.'
      : 'The remote job failed without an error message; check the worker logs.'
  return details === undefined ? { code, message } : { code, message, details }
}

function readOutputs(raw: unknown): Record<string, EncodedValue> | undefined {
  if (!isDict(raw)) return undefined
  const out: Record<string, EncodedValue> = {}
  for (const [name, value] of Object.entries(raw)) {
    const v = isDict(value) ? toResultValue(value) : undefined
    if (v) setOwn(out, name, v)
  }
  return out
}

function readId(body: Dict): string | undefined {
  for (const key of ['job_id', 'jobId', 'id']) {
    const v = body[key]
    if (typeof v === 'string' && v !== '') return v
    if (typeof v === 'number' && Number.isFinite(v)) return String(v)
  }
  return undefined
}

/**
 * Lenient reader of any worker response, old or new. Throws ProtocolError (BAD_ENVELOPE) only when
 * the body is not a JSON object. A pending/running envelope without a poll URL is returned as is:
 * the caller decides (the original treated pending without a poll URL as an error).
 */
export function parseEnvelope(body: unknown, requestUrl?: string): JobEnvelope {
  const obj = toBody(body)
  const statusRaw = Object.hasOwn(obj, 'status') && obj.status != null ? obj.status : obj.state
  const present = hasResult(obj)
  const status: JobStatus = normalizeStatus(statusRaw) ?? (present ? 'completed' : 'running')
  const env: JobEnvelope = { status }
  const jobId = readId(obj)
  if (jobId !== undefined) env.jobId = jobId
  const pollUrl = firstText(obj, POLL_URL_KEYS)
  if (pollUrl !== undefined) env.pollUrl = resolveUrl(pollUrl.trim(), requestUrl)
  const progress = normalizeProgress(obj.progress)
  if (progress) env.progress = progress
  const text = progressText(obj)
  if (text !== undefined) env.message = text
  const delay = firstNumber(obj, DELAY_KEYS)
  if (delay !== undefined) env.retryAfter = Math.max(delay, MIN_DELAY)
  const queue = firstNumber(obj, ['queue_position', 'queuePosition'])
  if (queue !== undefined) env.queuePosition = queue
  if (status === 'completed') {
    const source = [obj.result, obj.output, obj.data].find(isDict)
    const result = source ? toResultValue(source) : toResultValue(obj, false)
    if (result) env.result = result
    const outputs = readOutputs(obj.outputs)
    if (outputs) env.outputs = outputs
  }
  if (status === 'failed' || status === 'cancelled') env.error = errorInfo(obj, status, text)
  const node = progressNode(obj.progress)
  if (node !== undefined) env.node = node
  const timings = zTimings.safeParse(obj.timings)
  if (timings.success) env.timings = timings.data
  const webhook = zWebhookStatus.safeParse(obj.webhook)
  if (webhook.success) env.webhook = webhook.data
  return env
}

function progressNode(raw: unknown): JobEnvelope['node'] {
  if (!isDict(raw) || typeof raw.node !== 'string' || raw.node === '') return undefined
  return typeof raw.class_type === 'string' ? { id: raw.node, classType: raw.class_type } : { id: raw.node }
}

/** camelCase envelope -> snake_case wire envelope (what servers send). */
export function toWireEnvelope(env: JobEnvelope): JobEnvelopeWire {
  const wire: JobEnvelopeWire = { status: env.status }
  if (env.jobId !== undefined) wire.job_id = env.jobId
  if (env.pollUrl !== undefined) wire.poll_url = env.pollUrl
  if (env.progress) {
    wire.progress = { value: env.progress.value, max: env.progress.max }
    if (env.node !== undefined) {
      wire.progress.node = env.node.id
      if (env.node.classType !== undefined) wire.progress.class_type = env.node.classType
    }
  }
  if (env.message !== undefined) wire.message = env.message
  if (env.result !== undefined) wire.result = env.result
  if (env.outputs !== undefined) wire.outputs = env.outputs
  if (env.error !== undefined) wire.error = env.error
  if (env.queuePosition !== undefined) wire.queue_position = env.queuePosition
  if (env.retryAfter !== undefined) wire.retry_after = env.retryAfter
  if (env.timings !== undefined) wire.timings = env.timings
  if (env.webhook !== undefined) wire.webhook = env.webhook
  return wire
}
