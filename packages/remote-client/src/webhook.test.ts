import { randomBytes } from 'node:crypto'
import { Webhook } from 'standardwebhooks'
import { describe, expect, it } from 'vitest'
import { verifyWebhook, WebhookVerificationError } from './webhook.js'

const secret = `whsec_${randomBytes(32).toString('base64')}`
const body = JSON.stringify({
  status: 'completed',
  job_id: 'j1',
  event: 'completed',
  timings: { queue_seconds: 0.5, startup_seconds: 0, run_seconds: 2, transfer_seconds: 0.1 },
})

/** Headers signed by the independent standardwebhooks implementation. */
function signed(at = new Date(), payload = body, key = secret): Record<string, string> {
  const id = 'msg_abc'
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(key).sign(id, at, payload),
  }
}

function code(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (error) {
    return error instanceof WebhookVerificationError ? error.code : 'OTHER'
  }
  return undefined
}

describe('verifyWebhook', () => {
  it('accepts what standardwebhooks signs and returns the envelope', () => {
    const got = verifyWebhook(secret, signed(), body)
    expect(got).toMatchObject({ id: 'msg_abc', event: 'completed' })
    expect(got.envelope).toMatchObject({ status: 'completed', jobId: 'j1' })
    expect(got.envelope.timings?.run_seconds).toBe(2)
    expect(verifyWebhook(secret, new Headers(signed()), new TextEncoder().encode(body)).id).toBe('msg_abc')
  })

  it('accepts any matching signature among several (key rotation)', () => {
    const headers = signed()
    const other = signed(new Date(), body, `whsec_${randomBytes(32).toString('base64')}`)
    headers['webhook-signature'] = `${other['webhook-signature']} ${headers['webhook-signature']}`
    expect(verifyWebhook(secret, headers, body).id).toBe('msg_abc')
  })

  it('rejects a wrong secret, an altered body, and a missing header with codes', () => {
    const wrong = `whsec_${randomBytes(32).toString('base64')}`
    expect(code(() => verifyWebhook(wrong, signed(), body))).toBe('WEBHOOK_BAD_SIGNATURE')
    expect(code(() => verifyWebhook(secret, signed(), body.replace('j1', 'j2')))).toBe(
      'WEBHOOK_BAD_SIGNATURE',
    )
    const headers = signed()
    headers['webhook-signature'] = headers['webhook-signature']?.replace('v1,', 'v2,') ?? ''
    expect(code(() => verifyWebhook(secret, headers, body))).toBe('WEBHOOK_BAD_SIGNATURE')
    const { 'webhook-id': _id, ...noId } = signed()
    expect(code(() => verifyWebhook(secret, noId, body))).toBe('WEBHOOK_MISSING_HEADERS')
    expect(code(() => verifyWebhook('secret', signed(), body))).toBe('WEBHOOK_BAD_SECRET')
  })

  it('rejects timestamps outside the tolerance (replays), both directions', () => {
    const old = signed(new Date(Date.now() - 10 * 60_000))
    expect(code(() => verifyWebhook(secret, old, body))).toBe('WEBHOOK_STALE_TIMESTAMP')
    const future = signed(new Date(Date.now() + 10 * 60_000))
    expect(code(() => verifyWebhook(secret, future, body))).toBe('WEBHOOK_STALE_TIMESTAMP')
    expect(verifyWebhook(secret, old, body, { toleranceSeconds: 3600 }).id).toBe('msg_abc')
  })

  it('rejects a signed body that is not a JSON object', () => {
    expect(code(() => verifyWebhook(secret, signed(new Date(), '[1]'), '[1]'))).toBe('WEBHOOK_BAD_BODY')
  })
})
