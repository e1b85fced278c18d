import { mkdirSync } from 'node:fs'
import { rename, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'

export interface RecycleLimits {
  /** A kept file unused this long is deleted. */
  keepMs: number
  /** Files kept at most. */
  maxFiles: number
  /** Bytes kept at most (together). */
  maxBytes: number
}

const DEFAULT_LIMITS: RecycleLimits = { keepMs: 30_000, maxFiles: 4, maxBytes: 2 * 1024 ** 3 }

interface Kept {
  path: string
  size: number
  at: number
}

/**
 * Spool files a finished job released (its inputs), kept a short while so the next upload writes over
 * one instead of creating a file: where guest memory is backed lazily (the lab's VMs), a new 48 MiB
 * file costs 135-160 ms of page faults and writing over one whose pages are cached 5-8 ms
 * (docs/LEARNINGS.md). Only files no one else links to (nlink 1) are kept, in the spool's private
 * directory; unused for `keepMs` they are deleted, and all of them with the spool at shutdown.
 */
export class RecycleBin {
  readonly #dir: string
  readonly #limits: RecycleLimits
  #made = false
  #count = 0
  #files: Kept[] = []
  #timer: NodeJS.Timeout | undefined

  constructor(dir: string, limits: Partial<RecycleLimits> = {}) {
    this.#dir = dir
    this.#limits = { ...DEFAULT_LIMITS, ...limits }
  }

  /** Files kept now. */
  get size(): number {
    return this.#files.length
  }

  /** Keeps `path` for reuse (moved into the bin); false when it is not kept (the caller deletes it). */
  async keep(path: string): Promise<boolean> {
    const info = await stat(path).catch(() => undefined)
    if (info === undefined || !info.isFile() || info.nlink !== 1 || info.size > this.#limits.maxBytes)
      return false
    await this.#expire()
    const total = () => this.#files.reduce((n, f) => n + f.size, 0)
    while (
      this.#files.length > 0 &&
      (this.#files.length >= this.#limits.maxFiles || total() + info.size > this.#limits.maxBytes)
    )
      await this.#drop(this.#files.shift() as Kept)
    if (!this.#made) {
      mkdirSync(this.#dir, { recursive: true, mode: 0o700 })
      this.#made = true
    }
    const target = join(this.#dir, `r${this.#count++}`)
    try {
      await rename(path, target)
    } catch {
      return false
    }
    this.#files.push({ path: target, size: info.size, at: Date.now() })
    this.#schedule()
    return true
  }

  /**
   * Moves the most recently kept file (its pages the likeliest still cached) to `path`, a new name, to
   * be written over; returns its size, or undefined when the bin is empty.
   */
  async take(path: string): Promise<number | undefined> {
    await this.#expire()
    const file = this.#files.pop()
    if (file === undefined) return undefined
    try {
      await rename(file.path, path)
      return file.size
    } catch {
      await rm(file.path, { force: true })
      return undefined
    }
  }

  async #expire(): Promise<void> {
    const oldest = Date.now() - this.#limits.keepMs
    while (this.#files.length > 0 && (this.#files[0] as Kept).at <= oldest)
      await this.#drop(this.#files.shift() as Kept)
  }

  async #drop(file: Kept): Promise<void> {
    await rm(file.path, { force: true })
  }

  #schedule(): void {
    if (this.#timer !== undefined) return
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      this.#expire()
        .catch(() => undefined)
        .finally(() => {
          if (this.#files.length > 0) this.#schedule()
        })
    }, this.#limits.keepMs)
    this.#timer.unref()
  }
}
