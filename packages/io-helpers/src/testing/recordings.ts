import type { ApiPrompt } from '../types.js'
import { canonical } from './canonical.js'
import { readFixtureJson, readWsTranscript } from './fixtures.js'

type HistoryBody = Record<string, { outputs: Record<string, Record<string, unknown>> }>

let table: Map<string, Record<string, Record<string, unknown>>> | undefined

/** The UI outputs recorded for a prompt identical to one of the recorded runs, if any. */
export function recordedOutputs(prompt: ApiPrompt): Record<string, Record<string, unknown>> | undefined {
  if (!table) {
    table = new Map()
    for (const dir of ['success', 'upload']) {
      const history = readFixtureJson<HistoryBody>(`${dir}/history.json`)
      const entry = Object.values(history)[0]
      if (entry) table.set(canonical(readFixtureJson(`${dir}/prompt.json`)), entry.outputs)
    }
  }
  return table.get(canonical(prompt))
}

export interface RecordedFailure {
  exception_message: string
  exception_type: string
  traceback: string[]
}

const failures = new Map<string, RecordedFailure>()

/** The execution_error fields recorded in `execution-error/<file>` (RegexReplace, LoadImage). */
export function recordedFailure(file: 'ws.jsonl' | 'loadimage-ws.jsonl'): RecordedFailure {
  let found = failures.get(file)
  if (!found) {
    const line = readWsTranscript(`execution-error/${file}`).find(
      (l) => 'type' in l && l.type === 'execution_error',
    )
    const data = (line && 'data' in line ? line.data : {}) as Record<string, unknown>
    found = {
      exception_message: String(data.exception_message),
      exception_type: String(data.exception_type),
      traceback: (data.traceback as string[]) ?? [],
    }
    failures.set(file, found)
  }
  return found
}
