import { appModeOf, REMOTE_INPUT_CLASS } from '@comfy-remote/io-helpers'
import { type EncodedValue, encodePng } from '@comfy-remote/protocol'
import { MockWorkerError } from '../errors.js'
import { resolveInputs } from '../inputs.js'
import type { ProgressNode, RunContext } from '../job.js'
import { type ApiPrompt, linkSource } from '../workflow.js'
import { checkInputs } from './comfyui-app-mode.js'
import type { Engine, EngineContext } from './types.js'

export interface EchoOptions {
  /** Progress steps per job (>= 1). */
  steps: number
  /** Delay per step in ms (>= 0). */
  stepMs: number
  /** Probability (0..1) that a job fails with INJECTED_FAILURE. */
  failRate: number
  /** Random source in [0, 1), for tests. */
  random?: () => number
  /** Side in pixels of the synthetic preview sent at each step (default 16; large ones are noise). */
  previewSize?: number
}

/**
 * The first Remote Input reached from `start` by following links upstream:
 * linked inputs in key order, depth first. Cycles are cut.
 */
export function findUpstreamInput(
  prompt: ApiPrompt,
  start: string,
  seen = new Set<string>(),
  isInput: (id: string) => boolean = (id) => prompt[id]?.class_type === REMOTE_INPUT_CLASS,
): string | undefined {
  if (seen.has(start)) return undefined
  seen.add(start)
  const node = prompt[start]
  if (node === undefined) return undefined
  if (isInput(start)) return start
  for (const key of Object.keys(node.inputs ?? {}).sort()) {
    const source = linkSource(node.inputs?.[key])
    if (source === undefined) continue
    const found = findUpstreamInput(prompt, source, seen, isInput)
    if (found !== undefined) return found
  }
  return undefined
}

/** The value a Remote Input yields: the request's value, else what its fallback yields. */
function inputValue(
  prompt: ApiPrompt,
  nodeId: string,
  values: Map<string, EncodedValue>,
  types: Map<string, string>,
  seen: Set<string>,
): EncodedValue | undefined {
  const given = values.get(nodeId)
  if (given !== undefined) return given
  if (seen.has(nodeId)) return undefined
  seen.add(nodeId)
  const fallback = prompt[nodeId]?.inputs?.fallback
  const source = linkSource(fallback)
  if (source !== undefined) {
    const upstream = findUpstreamInput(prompt, source)
    return upstream === undefined ? undefined : inputValue(prompt, upstream, values, types, seen)
  }
  if (fallback !== undefined)
    return { type: types.get(nodeId) ?? '*', encoding: 'json', data: fallback as never }
  return undefined
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason)
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = (): void => {
      clearTimeout(timer)
      reject(signal.reason)
    }
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

/** The node echo progress is reported for: the first (by id) that is not a Remote Input/Output. */
function workNode(prompt: ApiPrompt): ProgressNode | undefined {
  const ids = Object.keys(prompt).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))
  const id = ids.find((key) => !prompt[key]?.class_type?.startsWith('ComfyRemote'))
  if (id === undefined) return undefined
  const classType = prompt[id]?.class_type
  return classType === undefined ? { id } : { id, classType }
}

/**
 * A small PNG that brightens with each step: the echo engine's stand-in for a sampler preview. Sides
 * above 64 px are filled with noise (incompressible: tests of slow clients need big previews).
 */
export function syntheticPreview(step: number, steps: number, size = 16): Uint8Array {
  const level = (step + 1) / steps
  const data = new Float32Array(size * size * 3)
  let seed = step + 1
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const i = (y * size + x) * 3
      seed = (seed * 1103515245 + 12345) >>> 0
      data[i] = size > 64 ? (seed >>> 8) / 0xffffff : level
      data[i + 1] = size > 64 ? ((seed >>> 4) & 0xff) / 255 : x / (size - 1)
      data[i + 2] = y / (size - 1)
    }
  return encodePng({ dtype: 'float32', shape: [1, size, size, 3], data }).bytes
}

/** Echo engine: each Remote Output returns the Remote Input upstream of it (App Mode: the uploaded file). */
export function createEchoEngine(context: EngineContext, options: EchoOptions): Engine {
  const { prompt, contract } = context
  const random = options.random ?? Math.random
  const types = new Map(contract.inputs.map((input) => [input.nodeId, input.type]))
  const sources = new Map<string, string | undefined>()
  // App Mode output nodes echo the file sent to the upload widget (LoadImage ...) upstream of them
  const uploads = new Map(
    appModeOf(prompt)
      .inputs.filter((i) => i.upload)
      .flatMap((i) => i.targets.map((t) => [t.nodeId, `app:${i.name}`] as const)),
  )
  for (const output of contract.outputs) {
    if (output.source === 'app') {
      const found = findUpstreamInput(prompt, output.nodeId, new Set(), (id) => uploads.has(id))
      sources.set(output.name, found === undefined ? undefined : uploads.get(found))
      continue
    }
    const start = linkSource(prompt[output.nodeId]?.inputs?.value)
    sources.set(output.name, start === undefined ? undefined : findUpstreamInput(prompt, start))
  }
  const app = contract.inputs.some((i) => i.source === 'app')
  const worker = workNode(prompt)
  const previewNode =
    worker === undefined
      ? {}
      : { node: worker.id, ...(worker.classType ? { class_type: worker.classType } : {}) }
  return {
    name: 'echo',
    prepare(inputs) {
      if (app) checkInputs(prompt, inputs)
      return resolveInputs(contract, inputs)
    },
    async run(prepared, ctx: RunContext) {
      const values = prepared as Map<string, EncodedValue>
      ctx.admitted()
      ctx.running()
      const steps = Math.max(1, Math.floor(options.steps))
      const failAt = random() < options.failRate ? Math.floor(random() * steps) : -1
      for (let step = 0; step < steps; step++) {
        if (options.stepMs > 0) await sleep(options.stepMs, ctx.signal)
        else if (ctx.signal.aborted) throw ctx.signal.reason
        if (step === failAt) {
          throw new MockWorkerError(
            'INJECTED_FAILURE',
            `Injected failure at step ${step + 1} of ${steps} (--fail-rate ${options.failRate}).`,
          )
        }
        const label = worker?.classType ?? 'step'
        ctx.progress(step + 1, steps, `${label} ${step + 1}/${steps}`, worker)
        ctx.preview({
          ...previewNode,
          mime: 'image/png',
          data: syntheticPreview(step, steps, options.previewSize),
        })
      }
      const outputs: Record<string, EncodedValue> = {}
      for (const output of contract.outputs) {
        const source = sources.get(output.name)
        const value =
          source === undefined
            ? undefined
            : source.startsWith('app:')
              ? values.get(source)
              : inputValue(prompt, source, values, types, new Set())
        outputs[output.name] = value ?? { type: output.type, encoding: 'json', data: null }
      }
      return outputs
    },
    health: async () => ({ ok: true }),
    close: async () => {},
  }
}
