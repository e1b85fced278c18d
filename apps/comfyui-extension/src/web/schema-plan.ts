import { MAX_REMOTE_INPUTS, remoteInputPosition, remoteInputSlotName } from './slots.js'

export interface SchemaInput {
  name: string
  type: string
  required: boolean
  default?: unknown
}

export interface EndpointSchema {
  inputs: SchemaInput[]
  outputs: { name: string; type: string }[]
  transports: string[]
}

export class SchemaFormatError extends Error {
  override readonly name = 'SchemaFormatError'
  readonly code = 'BAD_SCHEMA'
}

type Obj = Record<string, unknown>
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)

function entries(value: unknown, field: string): Obj[] {
  if (value === undefined || value === null) return []
  if (Array.isArray(value)) return value.map((v) => (isObj(v) ? v : { name: v }))
  // Also accept a map form: {"image": {"type": "IMAGE"}}.
  if (isObj(value))
    return Object.entries(value).map(([name, v]) => ({ name, ...(isObj(v) ? v : { type: v }) }))
  throw new SchemaFormatError(`The endpoint's /schema "${field}" must be a list; got ${typeof value}.`)
}

function typeOf(o: Obj): string {
  const t = o.type ?? o.comfy_type ?? o.comfyType
  return typeof t === 'string' && t.trim() ? t.trim().toUpperCase() : '*'
}

/** Reads what `GET /comfy-remote/schema?url=` returned (the bridge's `schema` result or an error body). */
export function parseEndpointSchema(body: unknown): EndpointSchema {
  if (!isObj(body))
    throw new SchemaFormatError('The endpoint answered /schema with something that is not an object.')
  if (isObj(body.error)) {
    const e = body.error
    throw new SchemaFormatError(
      `${String(e.code ?? 'ERROR')}: ${String(e.message ?? 'the endpoint refused /schema')}`,
    )
  }
  const schema = isObj(body.schema) ? body.schema : body
  const inputs = entries(schema.inputs, 'inputs').map((o, i) => {
    const name = typeof o.name === 'string' && o.name.trim() ? o.name.trim() : `input_${i + 1}`
    const input: SchemaInput = { name, type: typeOf(o), required: o.required !== false }
    if ('default' in o) input.default = o.default
    return input
  })
  const outputs = entries(schema.outputs, 'outputs').map((o, i) => ({
    name: typeof o.name === 'string' && o.name ? o.name : `output_${i + 1}`,
    type: typeOf(o),
  }))
  const transports = Array.isArray(schema.transports)
    ? schema.transports.filter((t) => typeof t === 'string')
    : ['json']
  return { inputs, outputs, transports: transports as string[] }
}

/** An input slot of the Remote API node as the glue sees it. */
export interface SlotInfo {
  name: string
  type: string
  linked: boolean
}

export interface SlotChange {
  /** 1-based position; the k-th slot is sent as the k-th declared input. */
  position: number
  /** Existing slot name, or the name to create the slot with. */
  slotName: string
  create: boolean
  label: string
  type: string
  /** The existing link no longer fits the declared type (the user should re-check it). */
  typeConflict: boolean
}

export interface InputsPlan {
  changes: SlotChange[]
  /** Names in slot order: what the node sends instead of input_1..N. */
  inputNames: string[]
  warnings: string[]
}

/** Schema -> which Remote API slots to label/type/create. Pure; the DOM glue applies it. */
export function planRemoteInputs(schema: EndpointSchema, slots: SlotInfo[]): InputsPlan {
  const warnings: string[] = []
  const byPosition = new Map<number, SlotInfo>()
  for (const slot of slots) {
    const k = remoteInputPosition(slot.name)
    if (k !== null && !byPosition.has(k)) byPosition.set(k, slot)
  }
  const like = slots.map((s) => s.name).find((n) => remoteInputPosition(n) !== null) ?? null
  let declared = schema.inputs
  if (declared.length > MAX_REMOTE_INPUTS) {
    warnings.push(
      `The endpoint declares ${declared.length} inputs; the Remote API node has ${MAX_REMOTE_INPUTS} slots, so ${declared
        .slice(MAX_REMOTE_INPUTS)
        .map((i) => `"${i.name}"`)
        .join(', ')} can not be set.`,
    )
    declared = declared.slice(0, MAX_REMOTE_INPUTS)
  }
  const seen = new Set<string>()
  for (const input of declared) {
    if (seen.has(input.name)) warnings.push(`The endpoint declares the input "${input.name}" twice.`)
    seen.add(input.name)
  }
  if (declared.length === 0) warnings.push('The endpoint declares no inputs.')
  const changes = declared.map((input, i): SlotChange => {
    const position = i + 1
    const slot = byPosition.get(position)
    const type = input.type || '*'
    const typeConflict = !!slot && slot.linked && type !== '*' && slot.type !== '*' && slot.type !== type
    if (typeConflict)
      warnings.push(
        `Slot ${position} is linked to a ${slot?.type} value but "${input.name}" expects ${type}.`,
      )
    return {
      position,
      slotName: slot ? slot.name : remoteInputSlotName(position, like),
      create: !slot,
      label: input.required ? input.name : `${input.name} (optional)`,
      type,
      typeConflict,
    }
  })
  return { changes, inputNames: declared.map((i) => i.name), warnings }
}

/** Text for the node's `input_names` widget: "a, b, c" (a JSON list when a name holds a comma or newline). */
export function inputNamesText(names: readonly string[]): string {
  return names.some((n) => /[,\n]/.test(n)) ? JSON.stringify(names) : names.join(', ')
}
