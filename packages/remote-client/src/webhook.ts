import { createHmac, timingSafeEqual } from 'node:crypto'
import { type JobEnvelope, parseEnvelope } from '@comfy-remote/protocol'

/**
 * Codes of WebhookVerificationError.
 * - WEBHOOK_BAD_SECRET: the secret is not `whsec_<base64>`.
 * - WEBHOOK_MISSING_HEADERS: webhook-id, webhook-timestamp or webhook-signature is absent.
 * - WEBHOOK_STALE_TIMESTAMP: the timestamp is outside the tolerance (replayed or clock skew).
 * - WEBHOOK_BAD_SIGNATURE: no v1 signature matches (wrong secret, or the body was altered).
 * - WEBHOOK_BAD_BODY: signed, but not a JSON job envelope.
 */
export type WebhookErrorCode =
  | 'WEBHOOK_BAD_SECRET'
  | 'WEBHOOK_MISSING_HEADERS'
  | 'WEBHOOK_STALE_TIMESTAMP'
  | 'WEBHOOK_BAD_SIGNATURE'
  | 'WEBHOOK_BAD_BODY'

export class WebhookVerificationError extends Error {
  override readonly name = 'WebhookVerificationError'
  readonly code: WebhookErrorCode
  constructor(code: WebhookErrorCode, message: string) {
    super(message)
    this.code = code
  }
}

export function isWebhookVerificationError(value: unknown): value is WebhookVerificationError {
  return value instanceof WebhookVerificationError
}

/** A verified webhook: the job envelope, the event name and the message id (dedupe retries by it). */
export interface VerifiedWebhook {
  /** Same on every retry of one event: process each id once. */
  id: string
  /** completed | failed | cancelled | progress */
  event: string
  envelope: JobEnvelope
  /** The raw JSON body, parsed. */
  body: Record<string, unknown>
}

export interface VerifyWebhookOptions {
  /** Accepted clock difference in seconds (default 300, as Standard Webhooks recommends). */
  toleranceSeconds?: number
  /** Current time in ms (tests). */
  now?: number
}

type HeaderBag = Headers | Record<string, string | string[] | undefined>

function header(headers: HeaderBag, name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name) return Array.isArray(value) ? value.join(' ') : value
  }
  return undefined
}

function secretKey(secret: string): Buffer {
  const b64 = secret.startsWith('whsec_') ? secret.slice(6) : ''
  if (b64 === '' || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64))
    throw new WebhookVerificationError(
      'WEBHOOK_BAD_SECRET',
      'the secret must be the whsec_<base64> value the worker was started with (--webhook-secret).',
    )
  return Buffer.from(b64, 'base64')
}

/**
 * Verify a comfy-remote webhook (Standard Webhooks: HMAC-SHA256 over "id.timestamp.body" with the
 * whsec_ secret, `v1,<base64>` signatures) and return the job envelope. Pass the body exactly as
 * received (string or bytes), before any JSON parsing. Throws WebhookVerificationError.
 */
export function verifyWebhook(
  secret: string,
  headers: HeaderBag,
  body: string | Uint8Array,
  options: VerifyWebhookOptions = {},
): VerifiedWebhook {
  const key = secretKey(secret)
  const id = header(headers, 'webhook-id')
  const timestamp = header(headers, 'webhook-timestamp')
  const signatures = header(headers, 'webhook-signature')
  if (!id || !timestamp || !signatures)
    throw new WebhookVerificationError(
      'WEBHOOK_MISSING_HEADERS',
      'webhook-id, webhook-timestamp and webhook-signature headers are required; pass the request headers as received.',
    )
  const seconds = Number(timestamp)
  const now = (options.now ?? Date.now()) / 1000
  const tolerance = options.toleranceSeconds ?? 300
  if (!/^\d+$/.test(timestamp) || Math.abs(now - seconds) > tolerance)
    throw new WebhookVerificationError(
      'WEBHOOK_STALE_TIMESTAMP',
      `webhook-timestamp ${JSON.stringify(timestamp)} is more than ${tolerance} s from now: a replayed message, or a clock that is off.`,
    )
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body)
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.`).update(bytes).digest()
  const match = signatures.split(' ').some((entry) => {
    const [version, sig] = entry.split(',', 2)
    if (version !== 'v1' || sig === undefined) return false
    const given = Buffer.from(sig, 'base64')
    return given.byteLength === expected.byteLength && timingSafeEqual(given, expected)
  })
  if (!match)
    throw new WebhookVerificationError(
      'WEBHOOK_BAD_SIGNATURE',
      'no v1 signature matches: check the secret, and verify the raw body before parsing or re-serializing it.',
    )
  let parsed: unknown
  try {
    parsed = JSON.parse(bytes.toString('utf8'))
  } catch {
    throw new WebhookVerificationError('WEBHOOK_BAD_BODY', 'the signed body is not JSON.')
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new WebhookVerificationError('WEBHOOK_BAD_BODY', 'the signed body is not a JSON job envelope.')
  const obj = parsed as Record<string, unknown>
  const envelope = parseEnvelope(obj)
  const event = typeof obj.event === 'string' ? obj.event : envelope.status
  return { id, event, envelope, body: obj }
}
