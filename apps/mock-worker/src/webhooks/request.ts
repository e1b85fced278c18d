import { MockWorkerError } from '../errors.js'
import {
  DEFAULT_WEBHOOK_EVENTS,
  WEBHOOK_EVENTS,
  type WebhookConfig,
  type WebhookEvent,
  type WebhookTarget,
} from './dispatcher.js'
import { checkWebhookUrl } from './post.js'

/** The worker's webhook set-up: signing config (when a secret is configured) and the default URL. */
export interface WebhookSetup {
  config: WebhookConfig | undefined
  defaultTarget: WebhookTarget | undefined
}

const describe = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v)

function parseEvents(raw: unknown): ReadonlySet<WebhookEvent> {
  if (raw === undefined || raw === null) return new Set(DEFAULT_WEBHOOK_EVENTS)
  if (!Array.isArray(raw) || raw.length === 0)
    throw new MockWorkerError(
      'BAD_REQUEST',
      `webhook.events: expected a non-empty list of ${WEBHOOK_EVENTS.join(', ')}, got ${describe(raw)}.`,
    )
  for (const [i, event] of raw.entries()) {
    if (!(WEBHOOK_EVENTS as readonly unknown[]).includes(event))
      throw new MockWorkerError(
        'BAD_REQUEST',
        `webhook.events[${i}]: unknown event ${JSON.stringify(event)}; use ${WEBHOOK_EVENTS.join(', ')}.`,
      )
  }
  return new Set(raw as WebhookEvent[])
}

/**
 * The target of a run request's `webhook` field ({url, events?} or a URL string), else the worker's
 * default. WEBHOOK_NOT_CONFIGURED when the worker has no signing secret, WEBHOOK_REFUSED for a URL
 * the policy refuses, BAD_REQUEST for a malformed field.
 */
export function webhookTarget(body: unknown, setup: WebhookSetup): WebhookTarget | undefined {
  const raw =
    typeof body === 'object' && body !== null && !ArrayBuffer.isView(body)
      ? (body as Record<string, unknown>).webhook
      : undefined
  if (raw === undefined || raw === null) return setup.defaultTarget
  const spec = typeof raw === 'string' ? { url: raw } : raw
  if (typeof spec !== 'object' || Array.isArray(spec))
    throw new MockWorkerError(
      'BAD_REQUEST',
      `webhook: expected {"url": "https://...", "events": [...]}, got ${describe(raw)}.`,
    )
  const { url, events } = spec as { url?: unknown; events?: unknown }
  if (typeof url !== 'string' || url === '')
    throw new MockWorkerError('BAD_REQUEST', 'webhook.url: missing; give the https:// URL of your receiver.')
  if (setup.config === undefined)
    throw new MockWorkerError(
      'WEBHOOK_NOT_CONFIGURED',
      'webhook: this worker has no webhook signing secret, so it cannot send signed webhooks. Start it with --webhook-secret whsec_... (or COMFY_REMOTE_WEBHOOK_SECRET), or leave webhook out and follow the job by SSE or polling.',
    )
  let parsed: URL
  try {
    parsed = checkWebhookUrl(url, setup.config.allowLoopback)
  } catch (error) {
    throw new MockWorkerError('WEBHOOK_REFUSED', `webhook.url: ${(error as Error).message}`)
  }
  return { url: parsed, events: parseEvents(events) }
}
