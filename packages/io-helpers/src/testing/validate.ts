import type { ApiPrompt, InputSpec, ObjectInfo } from '../types.js'
import { isLink, isRecord } from '../types.js'
import type { RecordedExchange } from './fixtures.js'
import { readFixtureJson } from './fixtures.js'
import { pyConvert, pyRepr, pyStr } from './py-format.js'

/** An error object as ComfyUI reports it (`{type, message, details, extra_info}`). */
export interface ComfyError {
  type: string
  message: string
  details: string
  extra_info: Record<string, unknown>
}

export interface NodeErrors {
  errors: ComfyError[]
  dependent_outputs: string[]
  class_type: string
}

export type ValidationResult =
  | { ok: true; outputs: string[]; nodeErrors: Record<string, NodeErrors> }
  | { ok: false; error: ComfyError; nodeErrors: Record<string, NodeErrors> }

export interface ValidationContext {
  objectInfo: ObjectInfo
  /** Whether an input file (LoadImage's `image`) exists. */
  hasInputFile(name: string): boolean
}

class MissingNode extends Error {
  constructor(readonly id: string) {
    super(`'${id}'`)
  }
}

let tracebacks: { inner: string[]; outer: string[] } | undefined
function recordedTracebacks(): { inner: string[]; outer: string[] } {
  if (!tracebacks) {
    const get = (file: string, id: string) => {
      const body = readFixtureJson<RecordedExchange>(`validation-error/${file}`).response.body as {
        node_errors: Record<string, NodeErrors>
      }
      return (body.node_errors[id]?.errors[0]?.extra_info.traceback as string[]) ?? []
    }
    tracebacks = { inner: get('dangling-link.json', '3'), outer: get('dangling-link-on-output.json', '4') }
  }
  return tracebacks
}

const err = (
  type: string,
  message: string,
  details: string,
  extra_info: Record<string, unknown>,
): ComfyError => ({
  type,
  message,
  details,
  extra_info,
})

function specOf(ctx: ValidationContext, cls: string): Array<[string, InputSpec, boolean]> {
  const info = ctx.objectInfo[cls]!
  const req = info.input.required ?? {}
  const opt = info.input.optional ?? {}
  const reqNames = info.input_order?.required ?? Object.keys(req)
  const optNames = info.input_order?.optional ?? Object.keys(opt)
  return [
    ...reqNames.filter((n) => req[n]).map((n): [string, InputSpec, boolean] => [n, req[n]!, true]),
    ...optNames.filter((n) => opt[n]).map((n): [string, InputSpec, boolean] => [n, opt[n]!, false]),
  ]
}

function typeMatches(received: string, expected: unknown): boolean {
  if (typeof expected !== 'string' || received === expected || received === '*' || expected === '*')
    return true
  const accepted = new Set(expected.split(',').map((t) => t.trim()))
  return received.split(',').some((t) => accepted.has(t.trim()))
}

function checkLiteral(
  name: string,
  spec: InputSpec,
  val: unknown,
  skipCombo: boolean,
): ComfyError | undefined {
  const type = spec[0]
  const extra = isRecord(spec[1]) ? spec[1] : {}
  const config = [type, extra]
  let value = val
  if (type === 'INT' || type === 'FLOAT') {
    try {
      value = pyConvert(type, val)
    } catch (e) {
      const message = (e as Error).message
      return err(
        'invalid_input_type',
        `Failed to convert an input value to a ${type} value`,
        `${name}, ${pyStr(val)}, ${message}`,
        {
          input_name: name,
          input_config: config,
          received_value: val,
          exception_message: message,
        },
      )
    }
    const info = { input_name: name, input_config: config, received_value: value }
    if (typeof extra.min === 'number' && (value as number) < extra.min) {
      return err('value_smaller_than_min', `Value ${value} smaller than min of ${extra.min}`, name, info)
    }
    if (typeof extra.max === 'number' && (value as number) > extra.max) {
      return err('value_bigger_than_max', `Value ${value} bigger than max of ${extra.max}`, name, info)
    }
  }
  const options = Array.isArray(type)
    ? type
    : type === 'COMBO' && Array.isArray(extra.options)
      ? extra.options
      : undefined
  if (options && !skipCombo && !options.includes(value)) {
    const big = options.length > 20
    return err(
      'value_not_in_list',
      'Value not in list',
      `${name}: '${pyStr(value)}' not in ${big ? `(list of length ${options.length})` : pyRepr(options)}`,
      {
        input_name: name,
        input_config: big ? null : config,
        received_value: value,
      },
    )
  }
  return undefined
}

type Verdict = [boolean, ComfyError[]]
const FILE_INPUT_CLASSES = new Set(['LoadImage', 'LoadImageMask'])

function validateInputs(
  ctx: ValidationContext,
  prompt: ApiPrompt,
  id: string,
  validated: Map<string, Verdict>,
): Verdict {
  const known = validated.get(id)
  if (known) return known
  const node = prompt[id]!
  const inputs = isRecord(node.inputs) ? node.inputs : {}
  const errors: ComfyError[] = []
  let valid = true
  const fileInput = FILE_INPUT_CLASSES.has(node.class_type)
  for (const [name, spec, required] of specOf(ctx, node.class_type)) {
    if (!(name in inputs)) {
      if (required)
        errors.push(err('required_input_missing', 'Required input is missing', name, { input_name: name }))
      continue
    }
    const val = inputs[name]
    const config = [spec[0], isRecord(spec[1]) ? spec[1] : {}]
    if (isLink(val)) {
      const src = String(val[0])
      const source = prompt[src]
      if (!source) throw new MissingNode(src)
      const received = ctx.objectInfo[source.class_type]?.output[val[1]]
      const receivedType = typeof received === 'string' ? received : 'COMBO'
      if (!typeMatches(receivedType, spec[0])) {
        const details = `${name}, received_type(${receivedType}) mismatch input_type(${String(spec[0])})`
        errors.push(
          err('return_type_mismatch', 'Return type mismatch between linked nodes', details, {
            input_name: name,
            input_config: config,
            received_type: receivedType,
            linked_node: val,
          }),
        )
        continue
      }
      try {
        if (!validateInputs(ctx, prompt, src, validated)[0]) valid = false
      } catch (e) {
        if (!(e instanceof MissingNode)) throw e
        valid = false
        validated.set(src, [
          false,
          [
            err('exception_during_inner_validation', 'Exception when validating inner node', e.message, {
              input_name: name,
              input_config: config,
              exception_message: e.message,
              exception_type: 'KeyError',
              traceback: recordedTracebacks().inner,
              linked_node: val,
            }),
          ],
        ])
      }
      continue
    }
    const problem = checkLiteral(name, spec, val, fileInput && name === 'image')
    if (problem) errors.push(problem)
    else if (fileInput && name === 'image' && !ctx.hasInputFile(String(val))) {
      errors.push(
        err(
          'custom_validation_failed',
          'Custom validation failed for node',
          `${name} - Invalid image file: ${pyStr(val)}`,
          {
            input_name: name,
          },
        ),
      )
    }
  }
  const verdict: Verdict = errors.length > 0 || !valid ? [false, errors] : [true, []]
  validated.set(id, verdict)
  return verdict
}

/** ComfyUI 0.3.64's `validate_prompt`, for the inputs the fake server understands. */
export function validatePrompt(ctx: ValidationContext, prompt: unknown): ValidationResult {
  if (!isRecord(prompt)) {
    return {
      ok: false,
      error: err('invalid_prompt', 'Cannot execute because the prompt is not an object.', '', {}),
      nodeErrors: {},
    }
  }
  const outputs: string[] = []
  for (const [id, node] of Object.entries(prompt)) {
    if (!isRecord(node) || typeof node.class_type !== 'string') {
      const error = err(
        'invalid_prompt',
        'Cannot execute because a node is missing the class_type property.',
        `Node ID '#${id}'`,
        {},
      )
      return { ok: false, error, nodeErrors: {} }
    }
    const info = ctx.objectInfo[node.class_type]
    if (!info) {
      const error = err(
        'invalid_prompt',
        `Cannot execute because node ${node.class_type} does not exist.`,
        `Node ID '#${id}'`,
        {},
      )
      return { ok: false, error, nodeErrors: {} }
    }
    if (info.output_node === true) outputs.push(id)
  }
  if (outputs.length === 0) {
    return { ok: false, error: err('prompt_no_outputs', 'Prompt has no outputs', '', {}), nodeErrors: {} }
  }
  const checked = prompt as ApiPrompt
  const good: string[] = []
  const failures: Array<[string, ComfyError[]]> = []
  const nodeErrors: Record<string, NodeErrors> = {}
  const validated = new Map<string, Verdict>()
  for (const o of outputs) {
    let verdict: Verdict
    try {
      verdict = validateInputs(ctx, checked, o, validated)
    } catch (e) {
      if (!(e instanceof MissingNode)) throw e
      const reasons = [
        err('exception_during_validation', 'Exception when validating node', e.message, {
          exception_type: 'KeyError',
          traceback: recordedTracebacks().outer,
        }),
      ]
      verdict = [false, reasons]
      validated.set(o, verdict)
    }
    if (verdict[0]) {
      good.push(o)
      continue
    }
    if (verdict[1].length > 0) failures.push([o, verdict[1]])
    for (const [id, [ok, reasons]] of validated) {
      if (ok || reasons.length === 0) continue
      nodeErrors[id] ??= { errors: reasons, dependent_outputs: [], class_type: checked[id]!.class_type }
      nodeErrors[id].dependent_outputs.push(o)
    }
  }
  if (good.length === 0) {
    const details = failures
      .flatMap(([, errors]) => errors.map((e) => `${e.message}: ${e.details}`))
      .join('\n')
    const error = err('prompt_outputs_failed_validation', 'Prompt outputs failed validation', details, {})
    return { ok: false, error, nodeErrors }
  }
  return { ok: true, outputs: good, nodeErrors }
}
