import { randomUUID } from 'node:crypto'
import { createWriteStream, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { FILE_CHUNK_BYTES, FileBytes } from './file-bytes.js'

/** File names we generate: a counter and a sanitised hint, nothing from the caller unchecked. */
function safeName(n: number, hint: string): string {
  const clean = hint
    .replace(/[^A-Za-z0-9._-]/g, '_')
    .replace(/^\.+/, '')
    .slice(0, 60)
  return `${n}-${clean || 'part'}`
}

/**
 * The worker's spool: one private directory (mkdtemp) under `base` (default the OS temp dir) with a
 * sub-directory per request/job. Only these directories are ever deleted.
 */
export class SpoolRoot {
  readonly dir: string
  #bytes = 0
  #open = new Set<JobSpool>()

  constructor(base: string = tmpdir()) {
    mkdirSync(base, { recursive: true })
    this.dir = mkdtempSync(join(base, 'comfy-remote-spool-'))
  }

  /** Bytes held by live spool files (disk, not memory). */
  get bytes(): number {
    return this.#bytes
  }

  /** Spools not disposed yet (requests in flight, live jobs). */
  get open(): number {
    return this.#open.size
  }

  /** A new, empty per-request/per-job directory. */
  create(): JobSpool {
    const spool = new JobSpool(join(this.dir, randomUUID()), {
      add: (n) => {
        this.#bytes += n
      },
      closed: (s) => {
        this.#open.delete(s)
      },
    })
    this.#open.add(spool)
    return spool
  }

  /** Delete everything (worker shutdown). */
  close(): void {
    for (const spool of this.#open) spool.disposeSync()
    rmSync(this.dir, { recursive: true, force: true })
  }
}

/** Hands a released file to its `recycle` taker when nobody reads it; true when it was moved away. */
async function offer(bytes: FileBytes): Promise<boolean> {
  if (bytes.recycle === undefined || bytes.readers > 0) return false
  return bytes.recycle(bytes.path).catch(() => false)
}

interface SpoolHooks {
  add(bytes: number): void
  closed(spool: JobSpool): void
}

/** One request's or job's spool directory; `dispose` deletes it (idempotent). */
export class JobSpool {
  readonly dir: string
  readonly #hooks: SpoolHooks
  #made = false
  #count = 0
  #bytes = 0
  #disposed = false
  /** Files adopted and not released yet. */
  readonly #files = new Map<string, FileBytes>()

  constructor(dir: string, hooks: SpoolHooks) {
    this.dir = dir
    this.#hooks = hooks
  }

  get bytes(): number {
    return this.#bytes
  }

  get disposed(): boolean {
    return this.#disposed
  }

  /** A fresh path inside the directory (created on first use); `hint` only flavours the name. */
  newPath(hint = 'part'): string {
    if (this.#disposed) throw new Error('spool already disposed')
    if (!this.#made) {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 })
      this.#made = true
    }
    return join(this.dir, safeName(this.#count++, hint))
  }

  /**
   * Account for a file written into `newPath()` by someone else (e.g. an engine) and wrap it; `recycle`
   * is offered the file when the spool lets it go (see FileBytes.recycle).
   */
  adopt(path: string, size: number, recycle?: (path: string) => Promise<boolean>): FileBytes {
    this.#bytes += size
    this.#hooks.add(size)
    const bytes = new FileBytes(path, size, recycle)
    this.#files.set(path, bytes)
    return bytes
  }

  /**
   * Delete every file of this spool but `keep` (e.g. a finished job's inputs, which nobody reads again:
   * only its outputs stay). The directory and the kept files stay until `dispose`.
   */
  async releaseExcept(keep: ReadonlySet<string>): Promise<void> {
    for (const [path, bytes] of [...this.#files]) {
      if (keep.has(path) || this.#disposed) continue
      this.#files.delete(path)
      this.#bytes -= bytes.size
      this.#hooks.add(-bytes.size)
      if (!(await offer(bytes))) await rm(path, { force: true })
    }
  }

  /**
   * Write `source` to a new file; `first` are bytes already read from it. Rejects (and leaves no
   * file) when the source fails or `signal` aborts.
   */
  async write(source: Readable, hint: string, first: Uint8Array[] = []): Promise<FileBytes> {
    const path = this.newPath(hint)
    // a 16 KiB highWaterMark makes one fs write per network chunk: 1 MiB lets writev batch them (4x faster)
    const out = createWriteStream(path, { mode: 0o600, highWaterMark: FILE_CHUNK_BYTES })
    let size = 0
    for (const chunk of first) {
      size += chunk.byteLength
      if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()))
    }
    source.on('data', (chunk: Uint8Array) => {
      size += chunk.byteLength
    })
    try {
      await pipeline(source, out)
    } catch (error) {
      await rm(path, { force: true })
      throw error
    }
    return this.adopt(path, size)
  }

  /** Delete the directory and everything in it (files with a `recycle` taker are offered to it first). */
  async dispose(): Promise<void> {
    if (this.#disposed) return
    const files = [...this.#files.values()]
    this.#markDisposed()
    for (const bytes of files) await offer(bytes)
    if (this.#made) await rm(this.dir, { recursive: true, force: true })
  }

  disposeSync(): void {
    if (this.#disposed) return
    this.#markDisposed()
    if (this.#made) rmSync(this.dir, { recursive: true, force: true })
  }

  #markDisposed(): void {
    this.#disposed = true
    this.#hooks.add(-this.#bytes)
    this.#bytes = 0
    this.#files.clear()
    this.#hooks.closed(this)
  }
}
