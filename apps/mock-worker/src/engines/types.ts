import type { EncodedValue } from '@comfy-remote/protocol'
import type { RunContext } from '../job.js'
import type { ApiPrompt, WorkflowContract } from '../workflow.js'

export interface EngineHealth {
  ok: boolean
  detail?: string
}

/** A job engine: checks a request, then runs it. */
export interface Engine {
  readonly name: 'echo' | 'comfyui'
  /**
   * Check the request's inputs; throws MockWorkerError BAD_REQUEST naming the field. Binary `data`
   * may be a Uint8Array or a FileBytes (spooled part / fetched ref: `isFileBytes`, `.path`, `.stream()`).
   */
  prepare(inputs: Record<string, EncodedValue>): unknown
  /** Run a prepared job; resolves with the Remote Output values keyed by name. */
  run(prepared: unknown, ctx: RunContext): Promise<Record<string, EncodedValue>>
  health(): Promise<EngineHealth>
  close(): Promise<void>
}

export interface EngineContext {
  prompt: ApiPrompt
  contract: WorkflowContract
  /** The server's logger (pino), for what an operator should see once (e.g. how files reach ComfyUI). */
  log?: { info(message: string): void }
}
