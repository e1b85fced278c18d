import type { Writable } from 'node:stream'

export type BridgeStatus = 'pending' | 'running' | 'completed' | 'failed' | 'cancelled'

/** One line of the bridge's NDJSON output (see README "Bridge contract"). */
export type BridgeEvent =
  | { event: 'status'; status: BridgeStatus; jobId: string | null; queuePosition: number | null }
  | {
      event: 'progress'
      value: number
      max: number
      message: string | null
      node?: string | null
      classType?: string | null
    }
  | { event: 'preview'; node: string | null; classType: string | null; mime: string; data: string }
  | { event: 'log'; level: 'debug' | 'info' | 'warning' | 'error'; message: string }
  | { event: 'error'; code: string; message: string }
  | ({ event: 'result' } & Record<string, unknown>)

/** An event tagged with the request it belongs to (serve mode; `null` when the line had no usable id). */
export type TaggedEvent = BridgeEvent & { id?: string | null }

export interface EventSink {
  emit(event: TaggedEvent): void
  /** Resolves once everything emitted so far has been handed to the OS. */
  flush(): Promise<void>
}

/** Writes events as newline-delimited JSON to `out` (stdout in the bridge). */
export function createEventSink(out: Writable): EventSink {
  let pending: Promise<void> = Promise.resolve()
  return {
    emit(event) {
      const line = `${JSON.stringify(event)}\n`
      if (!out.write(line)) {
        pending = new Promise((resolve) => {
          out.once('drain', () => resolve())
          out.once('error', () => resolve())
        })
      }
    },
    flush() {
      return pending.then(
        () =>
          new Promise<void>((resolve) => {
            // An empty write calls back once the queue before it is flushed.
            if (out.writableEnded || out.destroyed) resolve()
            else out.write('', () => resolve())
          }),
      )
    },
  }
}
