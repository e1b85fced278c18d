import { z } from 'zod'
import { invalidOption } from './errors.js'

/**
 * Model files baked into the image (`models` in modal_config.json) and the optional Modal Volume
 * ComfyUI also reads models from. Every URL and path is allow-listed here; the generated Python
 * checks them again before it writes anything.
 */

/** A path under ComfyUI/models/: `<folder>/<file>`, segments of safe characters, no `.`/`..`. */
export const MODEL_PATH_RE =
  /^[A-Za-z0-9_][A-Za-z0-9._+-]{0,127}(?:\/[A-Za-z0-9_][A-Za-z0-9._+-]{0,127}){1,7}$/
/** Printable ASCII without spaces, quotes, backslashes or angle brackets. */
const URL_CHARS_RE = /^https:\/\/[\x21-\x7e]+$/
const URL_FORBIDDEN_RE = /["'`\\<>{}|^]/
export const SHA256_RE = /^[0-9a-f]{64}$/
/** A Modal Volume / Secret name (modal/_utils/name_utils.py). */
export const MODAL_OBJECT_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/

function urlProblem(url: string): string | null {
  if (url.length > 2000) return 'is longer than 2000 characters'
  if (!URL_CHARS_RE.test(url) || URL_FORBIDDEN_RE.test(url))
    return 'must be an https:// URL of printable characters without spaces or quotes'
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return 'is not a valid URL'
  }
  if (parsed.protocol !== 'https:') return 'must use https://'
  if (parsed.username !== '' || parsed.password !== '')
    return 'must not carry credentials (user:password@); use modelsSecret with HF_TOKEN instead'
  if (parsed.hostname === '') return 'has no host'
  return null
}

export const zModelEntry = z
  .object({
    url: z.string().superRefine((url, ctx) => {
      const problem = urlProblem(url)
      if (problem) ctx.addIssue({ code: 'custom', message: problem })
    }),
    path: z
      .string()
      .regex(
        MODEL_PATH_RE,
        'must be "<folder>/<file>" under ComfyUI/models/ (e.g. "checkpoints/v1-5.safetensors")',
      )
      .refine(
        (p) => !p.split('/').some((s) => s === '.' || s === '..'),
        'must not contain "." or ".." segments',
      ),
    sha256: z.string().regex(SHA256_RE, 'must be 64 lowercase hex characters').optional(),
  })
  .strict()
export type ModelEntry = z.infer<typeof zModelEntry>

export const zModelList = z.array(zModelEntry).superRefine((list, ctx) => {
  const seen = new Set<string>()
  list.forEach((entry, i) => {
    if (seen.has(entry.path))
      ctx.addIssue({ code: 'custom', path: [i, 'path'], message: `duplicate path ${entry.path}` })
    seen.add(entry.path)
  })
})

/** A model as the caller gives it: an object, or the CLI form `<url>=<path>[@sha256:<hex>]`. */
export type ModelInput = { url: string; path: string; sha256?: string } | string

/** Parses `<url>=<path>[@sha256:<hex>]`; the last `=` separates (URLs may have `=` in the query). */
export function parseModelSpec(
  spec: string,
  field = 'models',
): { url: string; path: string; sha256?: string } {
  const at = spec.lastIndexOf('=')
  if (at <= 0 || at === spec.length - 1)
    throw invalidOption(
      field,
      `${JSON.stringify(spec)} is not "<https url>=<path under ComfyUI/models/>[@sha256:<hex>]" (e.g. "https://huggingface.co/org/repo/resolve/main/m.safetensors=checkpoints/m.safetensors").`,
    )
  const url = spec.slice(0, at)
  const rest = spec.slice(at + 1)
  const hash = rest.indexOf('@sha256:')
  return hash === -1
    ? { url, path: rest }
    : { url, path: rest.slice(0, hash), sha256: rest.slice(hash + '@sha256:'.length) }
}

/** Validates the `models` option; throws INVALID_OPTIONS naming the entry and the fix. */
export function checkModels(value: unknown, field = 'models'): ModelEntry[] {
  if (value === undefined || value === null) return []
  if (!Array.isArray(value))
    throw invalidOption(field, 'must be a list of { url, path, sha256? } or "<url>=<path>" strings.')
  const entries = value.map((item, i) => {
    const raw = typeof item === 'string' ? parseModelSpec(item, `${field}[${i}]`) : item
    if (raw === null || typeof raw !== 'object')
      throw invalidOption(`${field}[${i}]`, 'must be { url, path, sha256? } or "<url>=<path>".')
    const sha = (raw as { sha256?: unknown }).sha256
    return typeof sha === 'string' ? { ...raw, sha256: sha.toLowerCase() } : raw
  })
  const parsed = zModelList.safeParse(entries)
  if (parsed.success) return parsed.data
  const issue = parsed.error.issues[0]
  const [index, key] = issue?.path ?? []
  const where = typeof index === 'number' ? `${field}[${index}]${key ? `.${String(key)}` : ''}` : field
  const at = typeof index === 'number' ? (entries[index] as { url?: unknown } | undefined) : undefined
  const what = typeof at?.url === 'string' ? ` (${at.url.slice(0, 200)})` : ''
  throw invalidOption(
    where,
    `${issue?.message ?? 'invalid'}${what}; models need an https URL and a relative path like "checkpoints/v1-5.safetensors" (no "..", no leading "/").`,
    parsed.error,
  )
}

export function checkModalObjectName(value: unknown, field: string): string | null {
  if (value === undefined || value === null || value === '') return null
  if (typeof value !== 'string' || !MODAL_OBJECT_NAME_RE.test(value))
    throw invalidOption(
      field,
      `${JSON.stringify(value)} is not a Modal object name; use 1-63 letters, digits, "-", "_" or "." (e.g. "comfy-models").`,
    )
  return value
}
