import type { AppInputMeta, AppNodeMeta, UploadKind } from './app-mode-read.js'
import { APP_META_KEY, outputBaseName, UPLOAD_TYPES } from './app-mode-read.js'
import { inputType, literalOf, nodeInputs, sortedNodeIds } from './prompt.js'
import type { ApiPrompt, EncodedValue, ObjectInfo } from './types.js'
import { isRecord } from './types.js'

export type { AppInputMeta, AppNodeMeta, AppOutputMeta, UploadKind } from './app-mode-read.js'
export { APP_META_KEY } from './app-mode-read.js'

/** An App Mode input of an API prompt: one name, one or more (node, input) it sets. */
export interface AppModeInput {
  name: string
  order: number
  targets: Array<{ nodeId: string; input: string }>
  description?: string
  upload?: UploadKind
  /** The widget's ComfyUI type as recorded at conversion. */
  type?: string
}

export interface AppModeOutput {
  name: string
  nodeId: string
  order: number
  /** The saved ComfyUI type as recorded at conversion. */
  type?: string
}

export interface AppMode {
  inputs: AppModeInput[]
  outputs: AppModeOutput[]
}

function nodeMeta(prompt: ApiPrompt, id: string): AppNodeMeta | undefined {
  const meta = prompt[id]?._meta?.[APP_META_KEY]
  return isRecord(meta) ? (meta as AppNodeMeta) : undefined
}

function validMark(mark: unknown): mark is AppInputMeta {
  return isRecord(mark) && typeof mark.name === 'string' && typeof mark.input === 'string'
}

/** The App Mode marks toApiPrompt kept in the prompt's `_meta`, in the order the user sees them. */
export function appModeOf(prompt: ApiPrompt): AppMode {
  const inputs = new Map<string, AppModeInput>()
  const outputs: AppModeOutput[] = []
  for (const id of sortedNodeIds(prompt)) {
    const meta = nodeMeta(prompt, id)
    if (!meta) continue
    for (const mark of Array.isArray(meta.inputs) ? meta.inputs.filter(validMark) : []) {
      const existing = inputs.get(mark.name)
      if (existing) {
        existing.targets.push({ nodeId: id, input: mark.input })
        continue
      }
      const input: AppModeInput = {
        name: mark.name,
        order: Number(mark.order) || 0,
        targets: [{ nodeId: id, input: mark.input }],
      }
      if (typeof mark.description === 'string') input.description = mark.description
      if (mark.upload) input.upload = mark.upload
      if (typeof mark.type === 'string') input.type = mark.type
      inputs.set(mark.name, input)
    }
    if (isRecord(meta.output) && typeof meta.output.name === 'string') {
      const output: AppModeOutput = {
        name: meta.output.name,
        nodeId: id,
        order: Number(meta.output.order) || 0,
      }
      if (typeof meta.output.type === 'string') output.type = meta.output.type
      outputs.push(output)
    }
  }
  const byOrder = <T extends { order: number }>(a: T, b: T) => a.order - b.order
  return { inputs: [...inputs.values()].sort(byOrder), outputs: outputs.sort(byOrder) }
}

/** True when the prompt carries App Mode marks. */
export function hasAppMode(prompt: ApiPrompt): boolean {
  const app = appModeOf(prompt)
  return app.inputs.length > 0 || app.outputs.length > 0
}

function specOf(info: ObjectInfo | undefined, cls: string, input: string): unknown[] | undefined {
  const spec = info?.[cls]?.input.required?.[input] ?? info?.[cls]?.input.optional?.[input]
  return Array.isArray(spec) ? spec : undefined
}

/** The choices of a COMBO widget (old `[[...]]` and new `["COMBO", {options}]` forms). */
export function comboChoices(
  info: ObjectInfo | undefined,
  cls: string,
  input: string,
): unknown[] | undefined {
  const spec = specOf(info, cls, input)
  if (!spec) return undefined
  if (Array.isArray(spec[0])) return spec[0]
  const options = isRecord(spec[1]) ? spec[1] : {}
  return spec[0] === 'COMBO' && Array.isArray(options.options) ? options.options : undefined
}

/** The ComfyUI type of an App Mode input: IMAGE/AUDIO/VIDEO for upload widgets, else the widget's. */
export function appInputType(prompt: ApiPrompt, input: AppModeInput, info?: ObjectInfo): string {
  if (input.upload) return UPLOAD_TYPES[input.upload]
  const first = input.targets[0]!
  const known = inputType(info, prompt[first.nodeId]!.class_type, first.input)
  return known === '*' && input.type ? input.type : known
}

/** The current (saved) value of an App Mode input, when it is a literal. */
export function appInputDefault(prompt: ApiPrompt, input: AppModeInput): unknown {
  const first = input.targets[0]!
  return literalOf(prompt, nodeInputs(prompt[first.nodeId]!)[first.input])
}

/** The ComfyUI type an App Mode output node saves (its first linked input, e.g. IMAGE for SaveImage). */
export function appOutputType(prompt: ApiPrompt, output: AppModeOutput, info?: ObjectInfo): string {
  const cls = prompt[output.nodeId]!.class_type
  const known = info?.[cls] ? inputType(info, cls, outputBaseName(info, cls)) : '*'
  return known === '*' && output.type ? output.type : known
}

function scalarOf(value: EncodedValue): { ok: true; data: unknown } | { ok: false } {
  if (value.encoding !== 'json' && value.encoding !== 'identity') return { ok: false }
  const data = value.data
  if (data === null || ['string', 'number', 'boolean'].includes(typeof data)) return { ok: true, data }
  return { ok: false }
}

/**
 * Why `value` cannot go into a widget of ComfyUI type `type` (undefined when it can), and the literal
 * to place. Upload widgets also take a json string: a file name ComfyUI already has.
 */
export function widgetLiteral(
  value: EncodedValue,
  type: string,
  choices: unknown[] | undefined,
): { literal: unknown } | { problem: string } {
  const scalar = scalarOf(value)
  if (!scalar.ok)
    return {
      problem: `expects a ${type} widget value as {"encoding": "json", "data": <value>}, got encoding "${value.encoding}"`,
    }
  const data = scalar.data
  const bad = (what: string) => ({ problem: `expects ${what}, got ${JSON.stringify(data)}` })
  switch (type) {
    case 'INT':
      return Number.isSafeInteger(data) ? { literal: data } : bad('an integer')
    case 'FLOAT':
      return typeof data === 'number' && Number.isFinite(data) ? { literal: data } : bad('a number')
    case 'BOOLEAN':
      return typeof data === 'boolean' ? { literal: data } : bad('true or false')
    case 'STRING':
      return typeof data === 'string' ? { literal: data } : bad('a string')
    case 'COMBO':
      if (choices && !choices.includes(data)) {
        const shown = choices.slice(0, 20).map((c) => JSON.stringify(c))
        return bad(`one of ${shown.join(', ')}${choices.length > 20 ? ', ...' : ''}`)
      }
      return { literal: data }
    default:
      return data === null ? bad('a value') : { literal: data }
  }
}
