// Checks an API-format prompt against a ComfyUI /object_info the way ComfyUI's validation does for
// the cases our examples can hit: known class, required inputs present, links to existing outputs of
// a compatible type, widget values inside their declared range or list.

type InputSpec = [unknown, Record<string, unknown>?]
export interface NodeInfo {
  input: { required?: Record<string, InputSpec>; optional?: Record<string, InputSpec> }
  output: string[]
}
export type ObjectInfo = Record<string, NodeInfo>
export type ApiPrompt = Record<string, { class_type: string; inputs: Record<string, unknown> }>

/** The comfy-remote nodes as PROTOCOL-COMPAT.md describes them (they are not in core object_info). */
export const remoteNodeInfo: ObjectInfo = {
  ComfyRemoteInput: {
    input: {
      required: { key: ['STRING', { default: 'payload' }] },
      optional: { fallback: ['*', {}], payload: ['STRING', {}] },
    },
    output: ['*'],
  },
  ComfyRemoteOutput: {
    input: { required: { value: ['*', {}], key: ['STRING', { default: 'result' }] } },
    output: ['*'],
  },
}

const isLink = (v: unknown): v is [string, number] =>
  Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'number'

function typeName(spec: InputSpec): string {
  const t = spec[0]
  if (Array.isArray(t)) return 'COMBO'
  return String(t)
}

function checkWidget(where: string, spec: InputSpec, value: unknown): string[] {
  const [t, opts = {}] = spec
  const options = Array.isArray(t) ? t : t === 'COMBO' ? (opts.options as unknown[]) : undefined
  if (options) return options.includes(value) ? [] : [`${where}: ${JSON.stringify(value)} not in list`]
  if (t === 'INT' || t === 'FLOAT') {
    if (typeof value !== 'number' || (t === 'INT' && !Number.isInteger(value))) return [`${where}: not ${t}`]
    const min = typeof opts.min === 'number' ? opts.min : -Infinity
    const max = typeof opts.max === 'number' ? opts.max : Infinity
    return value < min || value > max ? [`${where}: ${value} outside ${min}..${max}`] : []
  }
  if (t === 'STRING') return typeof value === 'string' ? [] : [`${where}: not a string`]
  if (t === 'BOOLEAN') return typeof value === 'boolean' ? [] : [`${where}: not a boolean`]
  return [`${where}: ${String(t)} input needs a link, got a literal`]
}

/** Returns a list of problems; empty means ComfyUI would accept the prompt. */
export function checkPrompt(prompt: ApiPrompt, objectInfo: ObjectInfo): string[] {
  const info: ObjectInfo = { ...objectInfo, ...remoteNodeInfo }
  const problems: string[] = []
  for (const [id, node] of Object.entries(prompt)) {
    const def = info[node.class_type]
    if (!def) {
      problems.push(`${id}: unknown class_type ${node.class_type}`)
      continue
    }
    const specs = { ...def.input.required, ...def.input.optional }
    for (const name of Object.keys(def.input.required ?? {})) {
      if (!(name in node.inputs)) problems.push(`${id}.${name}: required input missing`)
    }
    for (const [name, value] of Object.entries(node.inputs)) {
      const spec = specs[name]
      const where = `${id}.${name}`
      if (!spec) {
        problems.push(`${where}: not an input of ${node.class_type}`)
        continue
      }
      if (!isLink(value)) {
        problems.push(...checkWidget(where, spec, value))
        continue
      }
      const source = prompt[value[0]]
      const sourceDef = source && info[source.class_type]
      const outType = sourceDef?.output[value[1]]
      if (!outType) {
        problems.push(`${where}: links to missing output ${value[0]}:${value[1]}`)
        continue
      }
      const inType = typeName(spec)
      if (outType !== '*' && inType !== '*' && outType !== inType) {
        problems.push(`${where}: ${outType} linked into ${inType}`)
      }
    }
  }
  return problems
}
