/** Why a job id is no longer readable. */
export type GoneReason = 'expired' | 'evicted-memory' | 'evicted-count' | 'released'

/** Remembers why the last `limit` removed jobs went away, so a GET can say so (bounded). */
export class GoneJobs {
  readonly #reasons = new Map<string, GoneReason>()
  readonly #limit: number

  constructor(limit = 10_000) {
    this.#limit = limit
  }

  add(id: string, reason: GoneReason): void {
    this.#reasons.set(id, reason)
    if (this.#reasons.size > this.#limit) {
      const oldest = this.#reasons.keys().next().value
      if (oldest !== undefined) this.#reasons.delete(oldest)
    }
  }

  get(id: string): GoneReason | undefined {
    return this.#reasons.get(id)
  }
}
