/** The latest live preview of a running job (a sampler's intermediate image). */
export interface Preview {
  /** Remote node that produced it, when known. */
  node?: string
  class_type?: string
  mime: string
  data: Uint8Array
  /** Increases with every published preview of the job. */
  seq: number
}

export type PreviewInput = Omit<Preview, 'seq'>

/** Previews larger than this are dropped (ComfyUI's are JPEGs of at most 512 px: tens of KiB). */
export const PREVIEW_MAX_BYTES = 1024 * 1024
/** At most this many previews per second per job are published; the newest pending one wins. */
export const PREVIEWS_PER_SECOND = 4

/**
 * Per-job preview rate limit: publishes at most one preview per `intervalMs`; a preview offered
 * sooner waits and is replaced by any newer one (newest wins). Holds one pending image at most.
 */
export class PreviewThrottle {
  readonly #publish: (preview: Preview) => void
  readonly #intervalMs: number
  #last = Number.NEGATIVE_INFINITY
  #pending: PreviewInput | undefined
  #timer: NodeJS.Timeout | undefined
  #seq = 0
  #closed = false

  constructor(publish: (preview: Preview) => void, intervalMs = 1000 / PREVIEWS_PER_SECOND) {
    this.#publish = publish
    this.#intervalMs = intervalMs
  }

  /** Offer a preview; false when it was dropped (too large, or the job ended). */
  offer(preview: PreviewInput): boolean {
    if (this.#closed || preview.data.byteLength === 0 || preview.data.byteLength > PREVIEW_MAX_BYTES)
      return false
    const wait = this.#last + this.#intervalMs - Date.now()
    if (wait <= 0) {
      this.#emit(preview)
      return true
    }
    this.#pending = preview
    if (this.#timer === undefined) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined
        const next = this.#pending
        this.#pending = undefined
        if (next !== undefined && !this.#closed) this.#emit(next)
      }, wait)
      this.#timer.unref()
    }
    return true
  }

  #emit(preview: PreviewInput): void {
    this.#last = Date.now()
    this.#publish({ ...preview, seq: ++this.#seq })
  }

  /** Drop what is pending; offer nothing more. */
  close(): void {
    this.#closed = true
    clearTimeout(this.#timer)
    this.#timer = undefined
    this.#pending = undefined
  }
}
