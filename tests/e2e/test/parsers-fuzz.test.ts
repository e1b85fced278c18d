// Every public parser that reads data from outside (a workflow file, a prompt, a ComfyUI history or
// websocket frame, a request, an envelope, a multipart body), fed mutated copies of the examples and
// arbitrary JSON: each either returns or throws its package's coded error, never anything else
// (no TypeError, no RangeError, no hang).
import { join } from 'node:path'
import {
  collectOutputs,
  decodeBinaryFrame,
  describeWorkflow,
  injectInputs,
  isIoHelpersError,
  type ObjectInfo,
  parseApiPrompt,
  toApiPrompt,
} from '@comfy-remote/io-helpers'
import { decodeMultipart, isProtocolError, parseEnvelope, parseRunRequest } from '@comfy-remote/protocol'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { exampleNames, fixturesDir, readExample, readJson } from './support/paths.js'

const objectInfo = readJson<ObjectInfo>(join(fixturesDir, 'comfyui-0.3.64', 'object_info.json'))
const workflows = exampleNames.map((n) => readExample<Record<string, unknown>>(n, 'workflow.json'))
const prompts = exampleNames.map((n) => readExample<Record<string, unknown>>(n, 'prompt.json'))
const requests = exampleNames.map((n) => readExample<Record<string, unknown>>(n, 'request.json'))
const responses = exampleNames.map((n) => readExample<Record<string, unknown>>(n, 'response.json'))

/** A copy of `value` with one nested property replaced by `junk` (or deleted when junk is undefined). */
function mutate(value: unknown, path: number[], junk: unknown): unknown {
  const copy = structuredClone(value) as unknown
  let node = copy
  for (let i = 0; i < path.length; i++) {
    if (typeof node !== 'object' || node === null) break
    const keys = Object.keys(node)
    if (keys.length === 0) break
    const key = keys[path[i]! % keys.length]!
    const record = node as Record<string, unknown>
    if (i === path.length - 1 || typeof record[key] !== 'object' || record[key] === null) {
      if (junk === undefined) delete record[key]
      else record[key] = junk
      break
    }
    node = record[key]
  }
  return copy
}

const junk = fc.oneof(
  fc.constant(undefined),
  fc.jsonValue(),
  fc.constantFrom(null, -1, 1e308, '', '*', [], {}, [['1', 0]]),
)
const mutated = (bases: unknown[]) =>
  fc
    .tuple(fc.constantFrom(...bases), fc.array(fc.nat(40), { minLength: 1, maxLength: 6 }), junk)
    .map(([base, path, j]) => mutate(base, path, j))
const anything = (bases: unknown[]) => fc.oneof(mutated(bases), mutated(bases), fc.jsonValue())

function onlyCoded(fn: () => unknown, isCoded: (e: unknown) => boolean): void {
  try {
    fn()
  } catch (error) {
    if (!isCoded(error)) throw error
    expect((error as { code: unknown }).code).toMatch(/^[A-Z][A-Z0-9_]+$/)
  }
}

const runs = { numRuns: 300 }

const malformed: [string, (w: { links: unknown; nodes: { inputs: unknown }[] }) => void][] = [
  ['links is not an array', (w) => Object.assign(w, { links: '*' })],
  ["a node's inputs is an object", (w) => Object.assign(w.nodes[0]!, { inputs: {} })],
  ["a node's inputs is a number", (w) => Object.assign(w.nodes[0]!, { inputs: -1 })],
  ["a node's inputs holds null", (w) => Object.assign(w.nodes[1]!, { inputs: [null] })],
  // Regression (issue 14 defect 10): `delete nodes[0].inputs[0]` leaves a hole that Array#every skips;
  // the converter then read `.link` of undefined (TypeError) in about 1 `npm test` run of 10.
  ["a node's inputs has a hole", (w) => delete (w.nodes[0]!.inputs as unknown[])[0]],
  ["a node's outputs has a hole", (w) => delete (w.nodes[0] as unknown as { outputs: unknown[] }).outputs[0]],
  ['nodes has a hole', (w) => delete (w.nodes as unknown[])[0]],
  ['links has a hole', (w) => delete (w.links as unknown[])[0]],
  [
    'a link id is an object with its own toString',
    (w) => ((w.links as unknown[][])[0]![0] = { toString: '' }),
  ],
]

describe('io-helpers parsers', () => {
  it('toApiPrompt on mutated UI workflows', () => {
    fc.assert(
      fc.property(anything(workflows), (wf) =>
        onlyCoded(() => toApiPrompt(wf as never, objectInfo), isIoHelpersError),
      ),
      runs,
    )
  })

  it.each(malformed)('toApiPrompt rejects a workflow where %s with INVALID_WORKFLOW', (_label, spoil) => {
    const wf = structuredClone(workflows[0]) as { links: unknown; nodes: { inputs: unknown }[] }
    spoil(wf)
    let caught: unknown
    try {
      toApiPrompt(wf as never, objectInfo)
    } catch (error) {
      caught = error
    }
    expect(isIoHelpersError(caught)).toBe(true)
    expect((caught as { code: string }).code).toBe('INVALID_WORKFLOW')
  })

  it('parseApiPrompt, describeWorkflow and injectInputs on mutated prompts', () => {
    const inputs = requests[0]!.inputs as Record<string, never>
    fc.assert(
      fc.property(anything(prompts), (p) => {
        onlyCoded(() => parseApiPrompt(p), isIoHelpersError)
        onlyCoded(() => describeWorkflow(p as never, objectInfo), isIoHelpersError)
        onlyCoded(() => injectInputs(p as never, inputs), isIoHelpersError)
      }),
      runs,
    )
  })

  it('collectOutputs on mutated ComfyUI history entries', () => {
    const history = readJson<Record<string, unknown>>(
      join(fixturesDir, 'comfyui-0.3.64', 'success', 'history.json'),
    )
    const entry = Object.values(history)[0] as Record<string, unknown>
    const withRemote = {
      ...entry,
      outputs: {
        '3': {
          remote_output: [{ name: 'image', value: (responses[0]!.outputs as Record<string, unknown>).image }],
        },
      },
    }
    fc.assert(
      fc.property(anything([withRemote, history]), (h) =>
        onlyCoded(() => collectOutputs(prompts[0] as never, h), isIoHelpersError),
      ),
      runs,
    )
  })

  it('decodeBinaryFrame on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) =>
        onlyCoded(() => decodeBinaryFrame(b), isIoHelpersError),
      ),
      runs,
    )
  })
})

describe('protocol parsers', () => {
  it('parseRunRequest on mutated requests (v1 and original list form)', () => {
    const original = {
      inputs: [{ name: 'input_1', encoding: 'identity', data: 1 }],
      input_order: ['input_1'],
    }
    fc.assert(
      fc.property(anything([...requests, original]), (r) =>
        onlyCoded(() => parseRunRequest(r), isProtocolError),
      ),
      runs,
    )
  })

  it('parseEnvelope on mutated responses', () => {
    fc.assert(
      fc.property(anything(responses), (r) => onlyCoded(() => parseEnvelope(r), isProtocolError)),
      runs,
    )
  })

  it('decodeMultipart on random bodies and content types', () => {
    const type = fc.oneof(fc.constant('multipart/form-data; boundary=x'), fc.string())
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), type, (b, t) =>
        onlyCoded(() => decodeMultipart(b, t), isProtocolError),
      ),
      runs,
    )
  })
})
