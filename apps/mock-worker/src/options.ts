import { z } from 'zod'
import { MockWorkerError } from './errors.js'
import type { ResolveHost } from './webhooks/post.js'

const MiB = 1024 * 1024

/** Options of `buildApp` / `startWorker`; every field has a default but `workflow`. */
export const zWorkerOptions = z.object({
  workflow: z
    .unknown()
    .refine(
      (v) => typeof v === 'object' && v !== null,
      'must be a parsed workflow object (API or UI format)',
    ),
  objectInfo: z.record(z.string(), z.unknown()).optional(),
  engine: z.enum(['echo', 'comfyui']).default('echo'),
  comfyuiUrl: z.url({ protocol: /^https?$/ }).default('http://127.0.0.1:8188'),
  token: z.string().min(8, 'must be at least 8 characters').optional(),
  /** Accept `base64+pickle` inputs and hand them on undecoded (the receiving ComfyUI decides); default: 400 PICKLE_REFUSED. */
  allowPickle: z.boolean().default(false),
  host: z.string().min(1).default('127.0.0.1'),
  /** Web page origins allowed to call the worker (browsers send `Origin`); others get 403. */
  allowOrigins: z.array(z.string().min(1)).default([]),
  port: z.number().int().min(0).max(65535).default(8787),
  steps: z.number().int().min(1).max(10_000).default(5),
  stepMs: z.number().min(0).max(600_000).default(100),
  failRate: z.number().min(0).max(1).default(0),
  /** Echo engine: side of the synthetic preview image in px (tests of slow clients use big ones). */
  echoPreviewSize: z.number().int().min(1).max(1024).default(16),
  random: z.custom<() => number>((v) => typeof v === 'function').optional(),
  concurrency: z.number().int().min(1).max(1000).optional(),
  maxQueue: z.number().int().min(0).default(1000),
  maxJobs: z.number().int().min(1).default(10_000),
  resultTtlSeconds: z.number().positive().default(3600),
  /** Payload bytes finished jobs may hold together; the oldest finished jobs are evicted beyond it. */
  maxStoredBytes: z
    .number()
    .int()
    .min(0)
    .default(1024 * MiB),
  /** Limit of JSON (non-multipart) request bodies: base64 inside JSON is held in memory. */
  bodyLimit: z
    .number()
    .int()
    .min(1024)
    .default(64 * MiB),
  /** Limit of multipart/form-data request bodies (streamed; large parts spooled to disk). */
  multipartLimit: z
    .number()
    .int()
    .min(1024)
    .default(4 * 1024 * MiB),
  /** Binary parts up to this size stay in memory; larger ones are spooled to disk. */
  spoolThreshold: z
    .number()
    .int()
    .min(0)
    .default(1 * MiB),
  /** Directory under which the worker makes its private spool directory (default: the OS temp dir). */
  spoolDir: z.string().min(1).optional(),
  /**
   * Memory bytes the inputs of queued and running jobs may hold together (spooled parts excluded);
   * beyond it POST /run answers 503 QUEUE_FULL + Retry-After, or 413 when one request alone exceeds it.
   */
  maxInputBytes: z
    .number()
    .int()
    .min(0)
    .default(1024 * MiB),
  /** Spool-file bytes finished results may hold together; the oldest are evicted beyond it. */
  maxStoredDiskBytes: z
    .number()
    .int()
    .min(0)
    .default(16 * 1024 * MiB),
  /** Inputs given by `ref`: allow loopback/private/link-local targets (development only). */
  allowPrivateRefs: z.boolean().default(false),
  /** Inputs given by `ref`: allow plain http:// (development only). */
  allowHttpRefs: z.boolean().default(false),
  /** Largest resource a `ref` input may fetch, in bytes. */
  refMaxBytes: z
    .number()
    .int()
    .min(1)
    .default(4 * 1024 * MiB),
  /** Longest a `ref` fetch (redirects and body) may take, in ms. */
  refTimeoutMs: z.number().min(1).default(120_000),
  /** Tests only: replaces the public-address rule for ref fetches. */
  refAddressFilter: z.custom<(address: string) => boolean>((v) => typeof v === 'function').optional(),
  maxWaitSeconds: z.number().min(0).default(120),
  retryAfterSeconds: z.number().min(0.1).default(1),
  admissionTimeoutMs: z.number().min(0).default(10_000),
  shutdownGraceMs: z.number().min(0).default(10_000),
  heartbeatMs: z.number().min(10).default(15_000),
  comfyuiTimeoutMs: z.number().min(1).default(30_000),
  historyRetries: z.number().int().min(0).default(50),
  historyRetryMs: z.number().min(0).default(20),
  historyPollMs: z.number().min(10).default(1000),
  /** comfyui engine: values above this many bytes are uploaded to ComfyUI in parts (default 64 MiB). */
  comfyuiUploadPartBytes: z.number().int().min(1).optional(),
  /**
   * comfyui engine: `auto` places and takes files in ComfyUI's temp/comfy_remote folder directly when
   * the node pack proves both share it (same machine), else HTTP; `http` always uploads and views.
   */
  comfyuiFileTransfer: z.enum(['auto', 'http']).default('auto'),
  /** Standard Webhooks signing secret `whsec_<base64>`; without it requests naming a webhook get 400. */
  webhookSecret: z.string().min(1).optional(),
  /** Default webhook URL for jobs whose request names none. */
  webhookUrl: z.string().min(1).optional(),
  /** Allow http:// and loopback webhook receivers (local development only). */
  allowLoopbackWebhooks: z.boolean().default(false),
  webhookTimeoutMs: z.number().min(1).default(5_000),
  webhookMaxAttempts: z.number().int().min(1).max(100).default(8),
  webhookMaxSeconds: z.number().min(0).default(600),
  webhookBackoffMs: z.number().min(0).default(1_000),
  webhookMaxBackoffMs: z.number().min(0).default(60_000),
  webhookProgressMs: z.number().min(0).default(1_000),
  /** Host name resolver for webhook URLs (tests). */
  webhookResolve: z.custom<ResolveHost>((v) => typeof v === 'function').optional(),
  logger: z.union([z.boolean(), z.record(z.string(), z.unknown())]).default(false),
  docs: z.boolean().default(true),
})

export type WorkerOptions = z.input<typeof zWorkerOptions>
export type ResolvedOptions = z.output<typeof zWorkerOptions>

/** Validate options; INVALID_OPTIONS names every bad field. */
export function parseOptions(options: WorkerOptions): ResolvedOptions {
  const parsed = zWorkerOptions.safeParse(options)
  if (parsed.success) return parsed.data
  const problems = parsed.error.issues.map(
    (issue) => `${issue.path.join('.') || 'options'}: ${issue.message}`,
  )
  throw new MockWorkerError('INVALID_OPTIONS', `Invalid worker options: ${problems.join('; ')}`, {
    details: { problems },
  })
}
