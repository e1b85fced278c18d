import { z } from 'zod'

export const ENCODINGS = [
  'json',
  'npy',
  'png',
  'object',
  'list',
  'base64+pickle',
  'identity',
  'file',
] as const

/** Encodings whose `data` is the bytes of a file (base64, Uint8Array, Blob, `{part}`, `{file}`), or a `ref`. */
export const BINARY_ENCODINGS: readonly Encoding[] = ['npy', 'png', 'file']
export const zEncoding = z.enum(ENCODINGS)
export type Encoding = z.infer<typeof zEncoding>

export const JOB_STATUSES = ['pending', 'running', 'completed', 'failed', 'cancelled'] as const
export const zJobStatus = z.enum(JOB_STATUSES)
export type JobStatus = z.infer<typeof zJobStatus>

/**
 * A value on the wire. For `npy`/`png`/`file`, `data` is a base64 string (JSON transport), a
 * `Uint8Array` (or a `Blob`) of the file bytes in memory, `{part}` (inside a multipart JSON part) or
 * `{file}` (a file ComfyUI or the bridge holds); or the value carries `ref` (a URL; relative URLs are
 * relative to the endpoint) and `bytes` instead of `data`. For `object`/`list`, `data` is a map/array
 * of encoded values. Extra keys are kept.
 */
export const zEncodedValue = z.looseObject({
  type: z
    .string()
    .describe('ComfyUI type (IMAGE, MASK, LATENT, VIDEO, AUDIO, FILE, STRING, ...) or "*" when unknown'),
  encoding: zEncoding,
  data: z.unknown().optional().describe('payload; its form depends on encoding; absent when `ref` is set'),
  ref: z
    .string()
    .optional()
    .describe(
      'URL of the raw bytes when they are not inlined: https:// for inputs, /jobs/<id>/outputs/<name> (relative to the endpoint) for outputs',
    ),
  bytes: z.number().int().min(0).optional().describe('size of the bytes behind `ref`'),
  mime: z.string().optional().describe('media type of a `file` value, e.g. video/mp4, audio/wav'),
  filename: z
    .string()
    .optional()
    .describe('informational file name of a `file` value; never used as a path without sanitising'),
})
export type EncodedValue = z.infer<typeof zEncodedValue>

export const zProgress = z.object({
  value: z.number().min(0),
  max: z.number().positive(),
})
export type Progress = z.infer<typeof zProgress>

export const zErrorInfo = z.object({
  code: z.string().describe('UPPER_SNAKE error code, e.g. JOB_FAILED'),
  message: z.string(),
  details: z.unknown().optional(),
})
export type ErrorInfo = z.infer<typeof zErrorInfo>

/** Where a finished job's time went, in seconds. Old workers send none; old clients ignore it. */
export const zTimings = z.object({
  queue_seconds: z.number().min(0).describe('waiting before the run started (worker queue, ComfyUI queue)'),
  startup_seconds: z
    .number()
    .min(0)
    .describe('cold start (container, ComfyUI) when it happened in this job, else 0'),
  run_seconds: z.number().min(0).describe('the workflow run'),
  transfer_seconds: z.number().min(0).describe('moving inputs and outputs (uploads, downloads)'),
  cold_start: z
    .boolean()
    .optional()
    .describe(
      'this job started a new worker container (startup_seconds is that start); absent: not reported',
    ),
  restored_from_snapshot: z
    .boolean()
    .optional()
    .describe(
      'with cold_start: the container was restored from a memory snapshot (apps with snapshots only)',
    ),
})
export type Timings = z.infer<typeof zTimings>

/** Delivery status of a job's latest webhook event. */
export const zWebhookStatus = z.object({
  delivered: z.boolean(),
  attempts: z.number().int().min(0),
  last_error: z.string().nullable(),
})
export type WebhookStatus = z.infer<typeof zWebhookStatus>

/** What servers send (snake_case). */
export const zJobEnvelopeWire = z.object({
  status: zJobStatus,
  job_id: z.string().optional(),
  poll_url: z.string().optional(),
  progress: zProgress
    .extend({
      message: z.string().optional(),
      node: z.string().optional().describe('id of the remote node the progress is about'),
      class_type: z.string().optional().describe('class of that node, e.g. KSampler'),
    })
    .optional(),
  message: z.string().optional(),
  result: zEncodedValue.optional(),
  outputs: z.record(z.string(), zEncodedValue).optional(),
  error: zErrorInfo.optional(),
  queue_position: z.number().int().min(0).optional(),
  retry_after: z.number().min(0).optional(),
  timings: zTimings.optional(),
  webhook: zWebhookStatus.optional(),
})
export type JobEnvelopeWire = z.infer<typeof zJobEnvelopeWire>

/** What `parseEnvelope` returns (camelCase); `pollUrl` is absolute when a request URL was given. */
export const zJobEnvelope = z.object({
  status: zJobStatus,
  jobId: z.string().optional(),
  pollUrl: z.string().optional(),
  progress: zProgress.optional(),
  message: z.string().optional(),
  retryAfter: z.number().min(0.1).optional(),
  result: zEncodedValue.optional(),
  outputs: z.record(z.string(), zEncodedValue).optional(),
  error: zErrorInfo.optional(),
  queuePosition: z.number().optional(),
  /** The remote node the progress is about (per-node progress), when the worker says. */
  node: z.object({ id: z.string(), classType: z.string().optional() }).optional(),
  timings: zTimings.optional(),
  webhook: zWebhookStatus.optional(),
})
export type JobEnvelope = z.infer<typeof zJobEnvelope>

/** One entry of the original list form of `inputs`. */
export const zRunRequestListInput = z.looseObject({
  name: z.string().min(1),
  type: z.string().optional(),
  comfy_type: z.string().optional(),
  encoding: zEncoding,
  data: z.unknown(),
})
export type RunRequestListInput = z.infer<typeof zRunRequestListInput>

/** An input value as senders may write it: `type` may be missing (read as `*`) or named `comfy_type`. */
export const zEncodedValueInput = zEncodedValue.extend({
  type: z.string().optional(),
  comfy_type: z.string().optional(),
})

/** A run request body as it arrives on the wire: the v1 map form or the original list form. */
export const zRunRequestWire = z.looseObject({
  inputs: z.union([z.record(z.string(), zEncodedValueInput), z.array(zRunRequestListInput)]).nullish(),
  request_id: z.string().optional(),
  output_refs: z
    .boolean()
    .optional()
    .describe('true: binary outputs above 1 MiB come back as {ref, bytes} instead of inline data'),
  webhook: z
    .union([
      z.string(),
      z.object({
        url: z.string().describe('https:// URL of the receiver'),
        events: z.array(z.enum(['completed', 'failed', 'cancelled', 'progress'])).optional(),
      }),
    ])
    .optional()
    .describe(
      'POST signed job events (Standard Webhooks) to this URL; default events: completed, failed, cancelled',
    ),
})
export type RunRequestWire = z.infer<typeof zRunRequestWire>

/** A run request after `parseRunRequest`: always the map form. */
export const zRunRequest = z.object({
  inputs: z.record(z.string(), zEncodedValue),
  requestId: z.string().optional(),
  /** `output_refs: true`: answer binary outputs above 1 MiB as `{ref, bytes}` (GET /jobs/:id/outputs/:name). */
  outputRefs: z.boolean().optional(),
})
export type RunRequest = z.infer<typeof zRunRequest>

/** `GET /schema`: the workflow's contract. */
export const zWorkflowSchema = z.object({
  inputs: z.array(
    z.object({
      name: z.string(),
      nodeId: z.string(),
      type: z.string(),
      required: z.boolean(),
      default: z.unknown().optional(),
      /** `app`: an App Mode input (a widget marked in the editor); absent for a Remote Input. */
      source: z.literal('app').optional(),
      /** App Mode: the widget (API input name) the value goes into. */
      input: z.string().optional(),
      /** App Mode: the choices of a combo widget. */
      choices: z.array(z.unknown()).optional(),
      /** App Mode: the description the workflow's author gave the input. */
      description: z.string().optional(),
    }),
  ),
  outputs: z.array(
    z.object({
      name: z.string(),
      nodeId: z.string(),
      type: z.string(),
      /** `app`: an App Mode output node; absent for a Remote Output. */
      source: z.literal('app').optional(),
    }),
  ),
  transports: z.array(z.string()).optional(),
})
export type WorkflowSchema = z.infer<typeof zWorkflowSchema>

/** Error responses are failed envelopes. */
export const zErrorBody = z.object({
  status: z.literal('failed'),
  job_id: z.string().optional(),
  error: zErrorInfo,
})
export type ErrorBody = z.infer<typeof zErrorBody>
