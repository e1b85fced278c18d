import type { EncodedValue, Encoding } from '@comfy-remote/protocol'

/** Encoded values are @comfy-remote/protocol's (`{type, encoding, data, ref?, ...extra}`). */
export type { EncodedValue, Encoding }

/** A link in an API prompt: `[source node id, output slot]`. */
export type NodeLink = [string, number]

export interface ApiNode {
  class_type: string
  inputs: Record<string, unknown>
  _meta?: { title?: string; [key: string]: unknown }
  [key: string]: unknown
}

/** API-format workflow ("Export (API)"): node id -> node. */
export type ApiPrompt = Record<string, ApiNode>

/** One input spec of `/object_info`: `[type or combo list, options?]`. */
export type InputSpec = [string | unknown[], Record<string, unknown>?] | unknown[]

export interface ObjectInfoEntry {
  input: {
    required?: Record<string, InputSpec>
    optional?: Record<string, InputSpec>
    hidden?: Record<string, unknown>
  }
  input_order?: { required?: string[]; optional?: string[]; hidden?: string[] }
  output: unknown[]
  output_is_list?: boolean[]
  output_name?: string[]
  name: string
  display_name?: string
  description?: string
  python_module?: string
  category?: string
  output_node?: boolean
  [key: string]: unknown
}

/** A server's `/object_info`: class_type -> entry. */
export type ObjectInfo = Record<string, ObjectInfoEntry>

export function isLink(value: unknown): value is NodeLink {
  return (
    Array.isArray(value) &&
    value.length === 2 &&
    (typeof value[0] === 'string' || typeof value[0] === 'number') &&
    typeof value[1] === 'number'
  )
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function compareSegment(a: string, b: string): number {
  const na = /^\d+$/.test(a) ? Number(a) : Number.NaN
  const nb = /^\d+$/.test(b) ? Number(b) : Number.NaN
  if (!Number.isNaN(na) && !Number.isNaN(nb)) return na - nb
  if (!Number.isNaN(na)) return -1
  if (!Number.isNaN(nb)) return 1
  return a < b ? -1 : a > b ? 1 : 0
}

/**
 * Compare node ids: numeric ids as numbers, then the rest as strings; subgraph execution ids
 * ("10:3") segment by segment, so "2" < "10" < "10:3" < "10:12" < "11".
 */
export function compareNodeIds(a: string, b: string): number {
  const pa = a.split(':')
  const pb = b.split(':')
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const c = compareSegment(pa[i]!, pb[i]!)
    if (c !== 0) return c
  }
  return pa.length - pb.length
}
