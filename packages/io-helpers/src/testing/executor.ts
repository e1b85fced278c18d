import type { EncodedValue } from '../types.js'
import { compareNodeIds, isLink } from '../types.js'
import { encodeBinaryFrame } from '../ws-frames.js'
import { signatures } from './cache.js'
import type { NodeResult } from './node-behaviour.js'
import { NodeFailure, runNode } from './node-behaviour.js'
import { executionOrder } from './order.js'
import { batchSize, sendPreview } from './previews.js'
import { recordedOutputs } from './recordings.js'
import type { FakeState, HistoryRecord, QueueItem } from './state.js'
import { queueTuple } from './state.js'

class Interrupted extends Error {}

const sleep = (ms: number) => (ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve())

/** Run one queued prompt, sending ComfyUI 0.3.64's websocket sequence and writing its history entry. */
export async function executePrompt(state: FakeState, item: QueueItem): Promise<void> {
  const { promptId, prompt } = item
  const sid = typeof item.extraData.client_id === 'string' ? item.extraData.client_id : undefined
  const send = (type: string, data: Record<string, unknown>) => state.hub.send(sid, type, data)
  const messages: HistoryRecord['status']['messages'] = []
  const record = (type: string, data: Record<string, unknown>) => {
    messages.push([type, data])
    send(type, data)
  }
  const progress: Record<string, Record<string, unknown>> = {}
  const progressState = (id: string, value: number, max: number, st: string) => {
    progress[id] = {
      value,
      max,
      state: st,
      node_id: id,
      prompt_id: promptId,
      display_node_id: id,
      parent_node_id: null,
      real_node_id: id,
    }
    send('progress_state', { prompt_id: promptId, nodes: structuredClone(progress) })
  }
  const values = new Map<string, EncodedValue>()
  const outputs: HistoryRecord['outputs'] = {}
  const meta: HistoryRecord['meta'] = {}
  const executed: string[] = []
  const recorded = recordedOutputs(prompt)
  const opts = state.execution
  let status: 'success' | 'error' = 'success'

  record('execution_start', { prompt_id: promptId, timestamp: Date.now() })
  const order = executionOrder(prompt, state.objectInfo, item.outputs)
  const signature = signatures(prompt)
  const cached = new Set(order.filter((id) => state.cache?.has(signature.get(id) ?? '')))
  record('execution_cached', {
    nodes: [...cached].sort(compareNodeIds),
    prompt_id: promptId,
    timestamp: Date.now(),
  })
  for (const id of order) {
    const hit = cached.has(id) ? state.cache?.get(signature.get(id)!) : undefined
    if (!hit) continue
    values.set(id, hit.value)
    executed.push(id)
    if (!hit.ui) continue
    outputs[id] = hit.ui
    meta[id] = { node_id: id, display_node: id, parent_node: null, real_node_id: id }
    send('executed', { node: id, display_node: id, output: hit.ui, prompt_id: promptId })
    progressState(id, 1, 1, 'finished')
  }
  for (const id of order) {
    if (cached.has(id)) continue
    const node = prompt[id]!
    progressState(id, 0, 1, 'running')
    send('executing', { node: id, display_node: id, prompt_id: promptId })
    try {
      if (state.interruptRequested) throw new Interrupted()
      const linked: Record<string, EncodedValue> = {}
      for (const [name, v] of Object.entries(node.inputs ?? {})) {
        if (isLink(v) && values.has(String(v[0]))) linked[name] = values.get(String(v[0]))!
      }
      const remote = node.class_type.startsWith('ComfyRemote')
      const steps = remote ? 0 : opts.progressSteps
      for (let step = 1; step <= steps; step++) {
        await sleep(opts.stepDelayMs)
        if (state.interruptRequested) throw new Interrupted()
        progressState(id, step, steps, 'running')
        if (opts.stepPreviews) sendPreview(state, sid, { promptId, nodeId: id, index: step, count: steps })
        else send('progress', { value: step, max: steps, prompt_id: promptId, node: id })
        if (opts.progressText) {
          state.hub.sendBinary(sid, () =>
            encodeBinaryFrame({ eventType: 3, nodeId: id, text: `step ${step}/${steps}` }),
          )
        }
      }
      let finished: [number, number] = steps > 0 ? [steps, steps] : [1, 1]
      await sleep(opts.nodeDelayMs)
      const failure = opts.failNode?.(id, node)
      if (failure !== undefined) {
        throw new NodeFailure(
          typeof failure === 'string'
            ? { exception_message: failure, exception_type: 'RuntimeError', traceback: [] }
            : failure,
        )
      }
      const output = state.objectInfo[node.class_type]?.output?.[0]
      const result: NodeResult = runNode({
        id,
        node,
        linked,
        outputType: typeof output === 'string' ? output : '*',
        files: state.files,
        recordedUi: recorded?.[id],
        counter: () => state.nextFileNumber(),
      })
      if (node.class_type === 'SaveImageWebsocket') {
        const count = batchSize(prompt, node)
        for (let i = 0; i < count; i++) {
          progressState(id, i, count, 'running')
          sendPreview(state, sid, { promptId, nodeId: id, index: i, count })
        }
        finished = [count, count]
      }
      values.set(id, result.value)
      const key = signature.get(id)
      if (key !== undefined) state.cache?.set(key, result)
      if (result.ui) {
        outputs[id] = result.ui
        meta[id] = { node_id: id, display_node: id, parent_node: null, real_node_id: id }
        send('executed', { node: id, display_node: id, output: result.ui, prompt_id: promptId })
      }
      executed.push(id)
      progressState(id, finished[0], finished[1], 'finished')
    } catch (error) {
      status = 'error'
      const base = { prompt_id: promptId, node_id: id, node_type: node.class_type, executed: [...executed] }
      if (error instanceof Interrupted) {
        record('execution_interrupted', { ...base, timestamp: Date.now() })
      } else {
        const failure =
          error instanceof NodeFailure
            ? error.failure
            : { exception_message: String(error), exception_type: 'Exception', traceback: [] }
        const currentInputs = Object.fromEntries(
          Object.entries(node.inputs ?? {}).map(([k, v]) => [
            k,
            [isLink(v) ? (values.get(String(v[0])) ?? null) : v],
          ]),
        )
        record('execution_error', {
          ...base,
          ...failure,
          current_inputs: currentInputs,
          current_outputs: Object.keys(prompt),
          timestamp: Date.now(),
        })
      }
      break
    }
  }
  if (status === 'success') record('execution_success', { prompt_id: promptId, timestamp: Date.now() })
  state.running = undefined
  state.interruptRequested = false
  state.broadcastStatus()
  send('executing', { node: null, prompt_id: promptId })
  state.history.set(promptId, {
    prompt: queueTuple(item),
    outputs,
    status: { status_str: status, completed: status === 'success', messages },
    meta,
  })
}
