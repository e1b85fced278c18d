import { collectAppModeOutputs } from './app-mode-collect.js'
import { OutputCollectionError } from './errors.js'
import { parseApiPrompt, remoteKey, sortedNodeIds } from './prompt.js'
import { DEFAULT_OUTPUT_KEY, REMOTE_OUTPUT_CLASS, REMOTE_OUTPUT_UI_KEY } from './remote-nodes.js'
import type { ApiPrompt, EncodedValue } from './types.js'
import { isRecord } from './types.js'
import { encodedValueProblem } from './value-json.js'

/** A `/history/<id>` entry: `{prompt, outputs, status, meta}`. */
export interface HistoryEntry {
  prompt?: unknown[]
  outputs: Record<string, Record<string, unknown>>
  status?: { status_str?: string; completed?: boolean; messages?: Array<[string, Record<string, unknown>]> }
  meta?: Record<string, unknown>
}

/** Accept an entry, or a `/history/<id>` body `{"<prompt id>": entry}` holding exactly one entry. */
export function unwrapHistoryEntry(body: unknown): HistoryEntry {
  if (isRecord(body) && isRecord(body.outputs)) return body as unknown as HistoryEntry
  if (isRecord(body)) {
    const values = Object.values(body)
    if (values.length === 1 && isRecord(values[0]) && isRecord(values[0].outputs)) {
      return values[0] as unknown as HistoryEntry
    }
    if (values.length === 0) {
      throw new OutputCollectionError(
        'INVALID_HISTORY',
        'History body is {}: the prompt has not finished yet; poll again',
      )
    }
  }
  throw new OutputCollectionError(
    'INVALID_HISTORY',
    'Expected a /history/<prompt_id> entry with an "outputs" object',
  )
}

/** The failure message recorded in a history entry (execution_error / execution_interrupted), if any. */
export function historyFailure(entry: HistoryEntry): string | undefined {
  if (entry.status?.status_str !== 'error') return undefined
  for (const [event, data] of entry.status.messages ?? []) {
    if (event === 'execution_error') {
      return `node ${String(data.node_id)} (${String(data.node_type)}) failed: ${String(data.exception_message).trim()}`
    }
    if (event === 'execution_interrupted') return `interrupted at node ${String(data.node_id)}`
  }
  return 'the prompt ended with status "error"'
}

function readValue(raw: unknown): unknown {
  if (typeof raw !== 'string') return raw
  try {
    return JSON.parse(raw)
  } catch {
    return raw
  }
}

/**
 * Read every Remote Output's value from a history entry (its `remote_output` UI entries), keyed by the
 * output's key, and every App Mode output node's files (`images`, `audio`, ... lists) by its name, as
 * values whose bytes are still in ComfyUI (`data: {file: {filename, subfolder, type}}`; fetch them with
 * resolveFileRefs). An output that did not run is an OutputCollectionError naming it.
 */
export function collectOutputs(prompt: ApiPrompt, historyEntry: unknown): Record<string, EncodedValue> {
  const checked = parseApiPrompt(prompt)
  const entry = unwrapHistoryEntry(historyEntry)
  const result: Record<string, EncodedValue> = {}
  const missing: string[] = []
  const problems: string[] = []
  for (const id of sortedNodeIds(checked)) {
    if (checked[id]!.class_type !== REMOTE_OUTPUT_CLASS) continue
    const name = remoteKey(checked, id, DEFAULT_OUTPUT_KEY)
    const items = entry.outputs[id]?.[REMOTE_OUTPUT_UI_KEY]
    const list = Array.isArray(items) ? items.filter(isRecord) : []
    const item = list.find((i) => i.name === name) ?? (list.length === 1 ? list[0] : undefined)
    if (!item) {
      missing.push(id)
      problems.push(`Remote Output "${name}" (node ${id}) produced no value`)
      continue
    }
    const value = readValue(item.value)
    const problem = encodedValueProblem(value)
    if (problem) {
      missing.push(id)
      problems.push(`Remote Output "${name}" (node ${id}): ${problem}`)
      continue
    }
    result[name] = value as EncodedValue
  }
  const app = collectAppModeOutputs(checked, entry.outputs)
  Object.assign(result, app.values)
  missing.push(...app.missing)
  problems.push(...app.problems)
  if (missing.length > 0) {
    const failure = historyFailure(entry)
    const why = failure ? ` (${failure})` : ''
    throw new OutputCollectionError(
      'OUTPUT_NOT_PRODUCED',
      `${problems.join('; ')}${why}: check that the node ran (see the history status) and is connected`,
      { nodeIds: missing, problems },
    )
  }
  return result
}
