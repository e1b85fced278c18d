import { zErrorBody, zJobEnvelopeWire, zWorkflowSchema } from '@comfy-remote/protocol'
import { z } from 'zod'

export const WAIT_NOT_A_NUMBER = "must be a number of seconds (waits over the worker's maximum are cut to it)"

export const zWaitQuery = z.object({
  // messages worded as the generated app's (tests/contract compares both workers)
  wait: z.coerce
    .number({ error: WAIT_NOT_A_NUMBER })
    .min(0, { error: 'must be >= 0' })
    .optional()
    .describe('seconds to wait for the job to finish (POST) or change (GET); capped by the worker'),
})

export const zJobParams = z.object({
  id: z.string().min(1).max(200).describe('job id from job_id / poll_url'),
})

export const zRunHeaders = z.looseObject({
  'idempotency-key': z
    .string()
    .min(1, { error: 'must not be empty' })
    .max(256, { error: 'at most 256 characters; send a shorter key (a UUID)' })
    .optional()
    .describe('same key = same job'),
})

export const zHealth = z.object({
  status: z.enum(['ok', 'degraded']),
  protocol_version: z.literal(1),
  engine: z.enum(['echo', 'comfyui']),
  transports: z.array(z.string()),
  auth: z.enum(['token', 'none']).describe('token: every route but /health needs a bearer token'),
  accepting: z.boolean(),
  jobs: z.object({
    jobs: z.number(),
    running: z.number(),
    queued: z.number(),
    activeBytes: z.number().describe('payload bytes held by the inputs of unfinished jobs'),
    storedBytes: z.number().describe('payload bytes held by finished results (<= max stored bytes)'),
  }),
  detail: z.string().optional(),
})

export const envelopeResponses = {
  200: zJobEnvelopeWire.describe('job envelope (finished, or current state)'),
  202: zJobEnvelopeWire.describe('accepted, not finished: poll poll_url'),
  400: zErrorBody.describe('bad request; error.message names the field'),
  401: zErrorBody.describe('missing or wrong bearer token'),
  404: zErrorBody.describe('unknown, expired or evicted job'),
  413: zErrorBody.describe('body larger than the limit'),
  503: zErrorBody.describe('queue full or shutting down'),
}

export { zWorkflowSchema }
