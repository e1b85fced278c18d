import type { EncodedValue } from '@comfy-remote/protocol'
import { MockWorkerError } from './errors.js'
import type { WorkflowContract } from './workflow.js'

const ORIGINAL_NAME = /^input_([1-9][0-9]*)$/
const SIMPLE_TYPE = /^[A-Z][A-Z0-9_]*$/

/** Where `base64+pickle` hides in a value (itself, or inside object/list), as a field path. */
function picklePath(value: unknown, field: string): string | undefined {
  if (value === null || typeof value !== 'object') return undefined
  const v = value as Record<string, unknown>
  if (v.encoding === 'base64+pickle') return field
  if (v.encoding === 'object' && v.data !== null && typeof v.data === 'object')
    for (const [key, inner] of Object.entries(v.data as Record<string, unknown>)) {
      const found = picklePath(inner, `${field}.data.${key}`)
      if (found !== undefined) return found
    }
  if (v.encoding === 'list' && Array.isArray(v.data))
    for (const [i, inner] of v.data.entries()) {
      const found = picklePath(inner, `${field}.data[${i}]`)
      if (found !== undefined) return found
    }
  return undefined
}

/** Why `value` cannot feed an input of type `want`, or undefined when it can. */
export function typeProblem(want: string, value: EncodedValue): string | undefined {
  if (!SIMPLE_TYPE.test(want)) return undefined // '*', lists of types, combos: anything goes
  const got = typeof value.type === 'string' ? value.type : '*'
  if (SIMPLE_TYPE.test(got) && got !== want && !(want === 'FLOAT' && got === 'INT'))
    return `a ${got} value cannot feed this ${want} input; send a ${want}`
  return undefined
}

/**
 * Checks made before a job is created, the same in every engine (and in the generated Modal app):
 * `base64+pickle` anywhere is PICKLE_REFUSED unless the worker opted in (it never unpickles itself: it
 * hands the value on), and each value's type must
 * fit the Remote Input it feeds (BAD_REQUEST naming the field). Unknown names are left to the engine.
 */
export function checkInputs(
  contract: WorkflowContract,
  inputs: Record<string, EncodedValue>,
  allowPickle = false,
): void {
  for (const [name, value] of Object.entries(allowPickle ? {} : inputs)) {
    const pickled = picklePath(value, `inputs.${name}`)
    if (pickled !== undefined)
      throw new MockWorkerError(
        'PICKLE_REFUSED',
        `${pickled}: base64+pickle values are refused (unpickling runs code); send npy, png or json encodings`,
        { details: { field: pickled } },
      )
  }
  const problems: string[] = []
  for (const [name, value] of Object.entries(inputs)) {
    const match = ORIGINAL_NAME.exec(name)
    const input =
      contract.inputs.find((i) => i.name === name) ??
      (match === null ? undefined : contract.inputs[Number(match[1]) - 1])
    if (input === undefined) continue
    const problem = typeProblem(input.type, value)
    if (problem !== undefined) problems.push(`inputs.${name}: ${problem}`)
  }
  if (problems.length > 0)
    throw new MockWorkerError('BAD_REQUEST', problems.join('; '), { details: { problems } })
}
