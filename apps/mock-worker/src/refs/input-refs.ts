import type { EncodedValue } from '@comfy-remote/protocol'
import { MockWorkerError } from '../errors.js'
import type { JobSpool } from '../spool/spool.js'
import { checkRefUrl, fetchRef, type RefPolicy } from './safe-fetch.js'

const BINARY = new Set(['npy', 'png', 'file'])

/** An input value given by URL, with the field that names it in errors. */
export interface RefInput {
  field: string
  value: EncodedValue & { ref: string }
}

function isDict(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !ArrayBuffer.isView(value)
}

/**
 * The request's values that carry a `ref` instead of `data` (top level and inside object/list values),
 * checked now (binary encoding, allowed scheme, no private IP literal) so a bad ref is a 400 at once.
 */
export function collectRefInputs(inputs: Record<string, EncodedValue>, policy: RefPolicy): RefInput[] {
  const found: RefInput[] = []
  const stack: Array<[string, unknown]> = Object.entries(inputs).map(([k, v]) => [`inputs.${k}`, v])
  while (stack.length > 0) {
    const [field, node] = stack.pop() as [string, unknown]
    if (!isDict(node)) continue
    if (typeof node.ref === 'string' && node.ref !== '' && node.data === undefined) {
      if (!BINARY.has(String(node.encoding))) {
        throw new MockWorkerError(
          'BAD_REQUEST',
          `${field}.ref: only npy, png and file values can be given by ref (this one is ${String(node.encoding)}); put the value in data.`,
          { details: { field } },
        )
      }
      checkRefUrl(node.ref, policy, field)
      found.push({ field, value: node as EncodedValue & { ref: string } })
      continue
    }
    if ((node.encoding === 'object' || node.encoding === 'list') && typeof node.data === 'object') {
      for (const [k, v] of Object.entries(node.data ?? {})) stack.push([`${field}.${k}`, v])
    }
  }
  return found
}

/** Fetch every ref into the job's spool; each value then holds a FileBytes in `data` (ref removed). */
export async function resolveRefInputs(
  refs: RefInput[],
  spool: JobSpool,
  policy: RefPolicy,
  signal: AbortSignal,
): Promise<void> {
  await Promise.all(
    refs.map(async ({ field, value }) => {
      const file = await fetchRef(value.ref, field, spool, policy, signal)
      value.data = file
      delete (value as { ref?: string }).ref
      delete (value as { bytes?: number }).bytes
    }),
  )
}
