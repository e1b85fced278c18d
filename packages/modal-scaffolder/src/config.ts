import { zWorkflowSchema } from '@comfy-remote/protocol'
import { z } from 'zod'
import { ModalScaffolderError } from './errors.js'
import { MODAL_OBJECT_NAME_RE, zModelList } from './models.js'
import {
  APT_PACKAGE_RE,
  GIT_REF_RE,
  GIT_URL_RE,
  GPU_RE,
  PIP_PACKAGE_RE,
  PROJECT_APP_NAME_RE,
  SECRET_NAME_RE,
} from './names.js'
import { TORCH_PRESET_IDS, type TorchPresetId } from './presets.js'

/** The workflow's contract as `/schema` reports it (protocol's zWorkflowSchema without `transports`; computed at scaffold time). */
export const zContract = zWorkflowSchema.omit({ transports: true })
export type Contract = z.infer<typeof zContract>

/**
 * `cold_start` of modal_config.json. `memory_snapshot`: `enable_memory_snapshot=True` on the GPU class,
 * ComfyUI started in `@modal.enter(snap=True)`; `gpu_snapshot` (needs memory_snapshot): Modal's alpha GPU
 * memory snapshots (`experimental_options={"enable_gpu_snapshot": True}`); `warmup`: run the workflow
 * once with its default inputs when a container starts (captured by a GPU snapshot).
 */
export const zColdStart = z
  .object({ memory_snapshot: z.boolean(), gpu_snapshot: z.boolean(), warmup: z.boolean() })
  .refine((c) => c.memory_snapshot || !c.gpu_snapshot, {
    path: ['gpu_snapshot'],
    message:
      'GPU snapshots build on memory snapshots: set memory_snapshot to true too, or gpu_snapshot to false',
  })
export type ColdStart = z.infer<typeof zColdStart>

/** `modal_config.json`: everything the generated project is built from (snake_case, read by Python too). */
export const zModalConfig = z.object({
  schema_version: z.literal(1),
  app_name: z.string().regex(PROJECT_APP_NAME_RE),
  gpu: z.string().regex(GPU_RE),
  python_version: z.string().regex(/^3\.1[0-3]$/),
  pip_packages: z.array(z.string().regex(PIP_PACKAGE_RE)),
  apt_packages: z.array(z.string().regex(APT_PACKAGE_RE)),
  comfyui: z.object({ repo: z.string().regex(GIT_URL_RE), ref: z.string().regex(GIT_REF_RE) }),
  torch_preset: z.enum(TORCH_PRESET_IDS as [TorchPresetId, ...TorchPresetId[]]),
  timeouts: z.object({
    job_seconds: z.number().int().min(10).max(86_400),
    startup_seconds: z.number().int().min(10).max(3600),
    wait_max_seconds: z.number().int().min(0).max(140),
  }),
  containers: z.object({
    min: z.number().int().min(0).max(100),
    max: z.number().int().min(1).max(1000),
    scaledown_window_seconds: z.number().int().min(2).max(3600),
  }),
  auth: z.object({
    mode: z.enum(['token', 'proxy', 'none']),
    secret_name: z.string().regex(SECRET_NAME_RE),
    token_env: z.string().regex(/^[A-Z_][A-Z0-9_]{0,63}$/),
  }),
  limits: z.object({ max_request_bytes: z.number().int().min(1024) }),
  /** Files downloaded into ComfyUI/models/ at image build time (older projects: none). */
  models: zModelList.default([]),
  /** Modal Secret (key HF_TOKEN) used for gated downloads; null = anonymous. */
  models_secret: z.string().regex(MODAL_OBJECT_NAME_RE).nullable().default(null),
  /** Modal Volume mounted on the GPU class; ComfyUI also loads models from it. null = none. */
  volume: z.string().regex(MODAL_OBJECT_NAME_RE).nullable().default(null),
  /** Container start: Modal memory snapshots and a warm-up run (older projects: all off). */
  cold_start: zColdStart.default({ memory_snapshot: false, gpu_snapshot: false, warmup: false }),
  build_nonce: z.string().regex(/^[A-Za-z0-9-]{1,64}$/),
  contract: zContract,
})
export type ModalConfig = z.infer<typeof zModalConfig>

/** Validates a parsed `modal_config.json`; throws INVALID_OPTIONS naming the first bad field. */
export function parseModalConfig(value: unknown): ModalConfig {
  const parsed = zModalConfig.safeParse(value)
  if (parsed.success) return parsed.data
  const issue = parsed.error.issues[0]
  const field = issue ? issue.path.join('.') : '(root)'
  throw new ModalScaffolderError(
    'INVALID_OPTIONS',
    `modal_config.json: ${field}: ${issue?.message ?? 'invalid'}; fix the value or scaffold again.`,
    {
      cause: parsed.error,
      details: { field, issues: parsed.error.issues },
    },
  )
}
