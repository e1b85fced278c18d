import { createHmac, randomUUID } from 'node:crypto'

const PREFIX = 'whsec_'

/**
 * The key bytes of a Standard Webhooks secret `whsec_<base64>`. Throws a message saying what is
 * wrong (the secret itself is never echoed).
 */
export function parseWebhookSecret(secret: string): Buffer {
  if (!secret.startsWith(PREFIX))
    throw new Error('the webhook secret must look like whsec_<base64> (Standard Webhooks form).')
  const b64 = secret.slice(PREFIX.length)
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 === 1)
    throw new Error('the part of the webhook secret after whsec_ must be base64.')
  const key = Buffer.from(b64, 'base64')
  if (key.byteLength < 16)
    throw new Error('the webhook secret must hold at least 16 bytes (24 base64 chars).')
  return key
}

/** A new message id; the same id is sent on every retry of one event. */
export function newWebhookId(): string {
  return `msg_${randomUUID().replaceAll('-', '')}`
}

/** Standard Webhooks headers for one attempt: `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`. */
export function signWebhook(
  key: Buffer,
  id: string,
  timestampSeconds: number,
  body: Buffer,
): Record<string, string> {
  const hmac = createHmac('sha256', key)
  hmac.update(`${id}.${timestampSeconds}.`)
  hmac.update(body)
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': `v1,${hmac.digest('base64')}`,
  }
}
