import { MockWorkerError } from '../errors.js'
import type { ResolvedOptions } from '../options.js'
import { DEFAULT_WEBHOOK_EVENTS, type WebhookConfig } from './dispatcher.js'
import { checkWebhookUrl } from './post.js'
import type { WebhookSetup } from './request.js'
import { parseWebhookSecret } from './signature.js'

function invalid(field: string, message: string): MockWorkerError {
  return new MockWorkerError('INVALID_OPTIONS', `Invalid worker options: ${field}: ${message}`, {
    details: { problems: [`${field}: ${message}`] },
  })
}

/** The worker's webhook set-up from its options; INVALID_OPTIONS for a bad secret or default URL. */
export function webhookSetup(options: ResolvedOptions): WebhookSetup {
  if (options.webhookSecret === undefined) {
    if (options.webhookUrl !== undefined)
      throw invalid(
        'webhookUrl',
        'a default webhook URL needs a signing secret: pass --webhook-secret whsec_... (or COMFY_REMOTE_WEBHOOK_SECRET).',
      )
    return { config: undefined, defaultTarget: undefined }
  }
  let key: Buffer
  try {
    key = parseWebhookSecret(options.webhookSecret)
  } catch (error) {
    throw invalid('webhookSecret', (error as Error).message)
  }
  const config: WebhookConfig = {
    key,
    allowLoopback: options.allowLoopbackWebhooks,
    timeoutMs: options.webhookTimeoutMs,
    maxAttempts: options.webhookMaxAttempts,
    maxTotalMs: options.webhookMaxSeconds * 1000,
    backoffMs: options.webhookBackoffMs,
    maxBackoffMs: options.webhookMaxBackoffMs,
    progressIntervalMs: options.webhookProgressMs,
  }
  if (options.webhookResolve !== undefined) config.resolve = options.webhookResolve
  if (options.random !== undefined) config.random = options.random
  if (options.webhookUrl === undefined) return { config, defaultTarget: undefined }
  try {
    const url = checkWebhookUrl(options.webhookUrl, options.allowLoopbackWebhooks)
    return { config, defaultTarget: { url, events: new Set(DEFAULT_WEBHOOK_EVENTS) } }
  } catch (error) {
    throw invalid('webhookUrl', (error as Error).message)
  }
}
