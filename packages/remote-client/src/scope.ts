import type { JobEnvelope } from '@comfy-remote/protocol'
import { RemoteJobError } from './errors.js'

/**
 * The life of one client call: its deadline and its abort signal (the caller's signal or the
 * overall timeout, whichever comes first). Every wait inside the call is bounded by it.
 */
export class CallScope {
  readonly signal: AbortSignal
  readonly deadline: number
  private readonly controller = new AbortController()
  private readonly timer: ReturnType<typeof setTimeout> | undefined
  private readonly userSignal: AbortSignal | undefined
  private readonly onUserAbort = (): void => this.abort('cancelled')
  private ended: 'cancelled' | 'timeout' | undefined

  constructor(timeoutMs: number, userSignal?: AbortSignal) {
    this.signal = this.controller.signal
    this.deadline = Date.now() + timeoutMs
    this.userSignal = userSignal
    if (Number.isFinite(timeoutMs)) this.timer = setTimeout(() => this.abort('timeout'), timeoutMs)
    if (userSignal?.aborted) this.abort('cancelled')
    else userSignal?.addEventListener('abort', this.onUserAbort, { once: true })
  }

  private abort(why: 'cancelled' | 'timeout'): void {
    if (this.ended) return
    this.ended = why
    this.controller.abort(new Error(why === 'timeout' ? 'timeout' : 'aborted by the caller'))
  }

  /** Why the call ended early, if it did. */
  get endedBy(): 'cancelled' | 'timeout' | undefined {
    return this.ended
  }

  remaining(): number {
    return Math.max(0, this.deadline - Date.now())
  }

  /** The coded error for an ended call (CANCELLED or TIMEOUT), or undefined while it runs. */
  endError(what: string, envelope?: JobEnvelope, timeoutMs?: number): RemoteJobError | undefined {
    if (this.ended === 'cancelled') {
      return new RemoteJobError(
        'CANCELLED',
        `${what} was cancelled by the caller`,
        envelope ? { envelope } : {},
      )
    }
    if (this.ended === 'timeout') {
      const budget = timeoutMs === undefined ? '' : ` of ${Math.round(timeoutMs)} ms`
      return new RemoteJobError(
        'TIMEOUT',
        `${what} did not finish within the timeout${budget}; raise \`timeout\` (CLI: --timeout)`,
        envelope ? { envelope } : {},
      )
    }
    return undefined
  }

  dispose(): void {
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.userSignal?.removeEventListener('abort', this.onUserAbort)
  }
}
