import { base64ByteLength, type EncodedValue } from '@comfy-remote/protocol'
import { isFileBytes } from '../spool/file-bytes.js'

/** Binary outputs larger than this go out as refs when the caller asked (`output_refs: true`). */
export const OUTPUT_REF_MIN_BYTES = 1024 * 1024
const BINARY = new Set(['npy', 'png', 'file'])

function isDict(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !ArrayBuffer.isView(value)
}

/** Size of a binary value's bytes (Uint8Array, spool file, or base64 text), or undefined when not binary. */
export function payloadSize(value: unknown): number | undefined {
  if (!isDict(value) || !BINARY.has(String(value.encoding))) return undefined
  const data = value.data
  if (data instanceof Uint8Array) return data.byteLength
  if (isFileBytes(data)) return data.size
  if (typeof data === 'string') return base64ByteLength(data)
  return undefined
}

/** The URL path of an output's bytes: `/jobs/<id>/outputs/<name>[/<key>...]`, each segment escaped. */
export function outputRefPath(jobId: string, path: readonly string[]): string {
  return `/jobs/${encodeURIComponent(jobId)}/outputs/${path.map(encodeURIComponent).join('/')}`
}

function toRefs(value: unknown, jobId: string, path: string[]): unknown {
  if (!isDict(value)) return value
  const size = payloadSize(value)
  if (size !== undefined) {
    if (size <= OUTPUT_REF_MIN_BYTES) return value
    const { data: _data, ...meta } = value
    return { ...meta, ref: outputRefPath(jobId, path), bytes: size }
  }
  if ((value.encoding === 'object' || value.encoding === 'list') && typeof value.data === 'object') {
    const data = value.data
    const items = Array.isArray(data)
      ? data.map((item, i) => toRefs(item, jobId, [...path, String(i)]))
      : Object.fromEntries(
          Object.entries(data ?? {}).map(([k, item]) => [k, toRefs(item, jobId, [...path, k])]),
        )
    return { ...value, data: items }
  }
  return value
}

/** Outputs with every binary value above OUTPUT_REF_MIN_BYTES replaced by `{...meta, ref, bytes}`. */
export function outputsAsRefs(
  outputs: Record<string, EncodedValue>,
  jobId: string,
): Record<string, EncodedValue> {
  const out: Record<string, EncodedValue> = {}
  for (const [name, value] of Object.entries(outputs))
    out[name] = toRefs(value, jobId, [name]) as EncodedValue
  return out
}

/** The value at `path` (output name, then keys of object/list values), if any. */
export function findOutput(outputs: Record<string, EncodedValue>, path: readonly string[]): unknown {
  let node: unknown = Object.hasOwn(outputs, path[0] ?? '') ? outputs[path[0] as string] : undefined
  for (const key of path.slice(1)) {
    if (!isDict(node) || (node.encoding !== 'object' && node.encoding !== 'list')) return undefined
    const data = node.data
    node =
      data !== null && typeof data === 'object' && Object.hasOwn(data, key)
        ? (data as Record<string, unknown>)[key]
        : undefined
  }
  return node
}
