import type { ApiNode, ApiPrompt, ObjectInfo } from '../types.js'
import type { CachedNode } from './cache.js'
import { FileStore } from './files.js'
import type { RecordedFailure } from './recordings.js'
import { WsHub } from './ws-hub.js'

/** A queued prompt: `[number, prompt_id, prompt, extra_data, outputs_to_execute]` on the wire. */
export interface QueueItem {
  number: number
  promptId: string
  prompt: ApiPrompt
  extraData: Record<string, unknown>
  outputs: string[]
}

export function queueTuple(item: QueueItem): unknown[] {
  return [item.number, item.promptId, item.prompt, item.extraData, item.outputs]
}

export interface HistoryRecord {
  prompt: unknown[]
  outputs: Record<string, Record<string, unknown>>
  status: {
    status_str: 'success' | 'error'
    completed: boolean
    messages: Array<[string, Record<string, unknown>]>
  }
  meta: Record<string, { node_id: string; display_node: string; parent_node: null; real_node_id: string }>
}

export interface ExecutionOptions {
  /** Delay of every node, in ms (default 0). */
  nodeDelayMs: number
  /** `progress` messages each non-Remote node sends (default 0). */
  progressSteps: number
  /** Delay before each progress step, in ms (default 0). */
  stepDelayMs: number
  /** Send a type-3 binary text frame ("step i/n") with each progress step. */
  progressText: boolean
  /** Send a preview frame with each progress step (see FakeComfyUIOptions.stepPreviews). */
  stepPreviews: boolean
  /** Return an exception message to make that node fail with `execution_error`. */
  failNode?: (nodeId: string, node: ApiNode) => string | RecordedFailure | undefined
}

/** Everything the fake ComfyUI holds in memory. */
export class FakeState {
  readonly hub = new WsHub()
  readonly files: FileStore
  readonly history = new Map<string, HistoryRecord>()
  readonly pending: QueueItem[] = []
  /** Results by input signature when caching is on (like ComfyUI's default cache). */
  readonly cache: Map<string, CachedNode> | undefined
  running: QueueItem | undefined
  interruptRequested = false
  number = 0
  private fileCounter = 0

  constructor(
    readonly objectInfo: ObjectInfo,
    readonly execution: ExecutionOptions,
    cache = false,
    tempDir?: string,
  ) {
    this.cache = cache ? new Map() : undefined
    this.files = new FileStore(tempDir)
  }

  nextFileNumber(): number {
    this.fileCounter += 1
    return this.fileCounter
  }

  queueRemaining(): number {
    return this.pending.length + (this.running ? 1 : 0)
  }

  broadcastStatus(): void {
    this.hub.send(undefined, 'status', { status: { exec_info: { queue_remaining: this.queueRemaining() } } })
  }
}
