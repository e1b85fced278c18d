import { createHash } from 'node:crypto'
import { createReadStream, readFileSync } from 'node:fs'
import type { Readable } from 'node:stream'

/** Read streams of spooled files use 1 MiB chunks: with the 64 KiB default a 48 MiB file takes 3x longer. */
export const FILE_CHUNK_BYTES = 1024 * 1024

/**
 * The bytes of a value that live in a file the worker spooled (a multipart part, a fetched `ref`, an
 * output read back from ComfyUI). It stands where a Uint8Array would in an encoded value's `data`:
 * engines consume it as a path or a stream (`isFileBytes(value.data)`), the echo engine passes it
 * through, responses stream it. The file belongs to a JobSpool and is deleted with it.
 */
export class FileBytes {
  readonly path: string
  /** Size in bytes. */
  readonly size: number
  /**
   * Where the file may go when its job no longer needs it, instead of being deleted (see
   * `JobSpool.dispose`): true when it was moved away.
   */
  readonly recycle: ((path: string) => Promise<boolean>) | undefined
  /** Streams of the bytes still open: a file being read is never handed on. */
  readers = 0
  #sha256: Promise<string> | undefined

  constructor(path: string, size: number, recycle?: (path: string) => Promise<boolean>) {
    this.path = path
    this.size = size
    this.recycle = recycle
  }

  /**
   * SHA-256 (hex) of the bytes, read from the file 1 MiB at a time on first use and remembered
   * (Idempotency-Key checks): off the request's critical path, the file stays readable while it runs.
   */
  sha256(): Promise<string> {
    this.#sha256 ??= new Promise<string>((resolve, reject) => {
      const hash = createHash('sha256')
      this.stream()
        .on('data', (chunk) => hash.update(chunk as Buffer))
        .once('end', () => resolve(hash.digest('hex')))
        .once('error', reject)
    })
    return this.#sha256
  }

  get byteLength(): number {
    return this.size
  }

  /** A stream of the bytes, or of `start..end` (inclusive, as HTTP ranges) of them. */
  stream(start?: number, end?: number): Readable {
    const range: { start?: number; end?: number; highWaterMark: number } = { highWaterMark: FILE_CHUNK_BYTES }
    if (start !== undefined) range.start = start
    if (end !== undefined) range.end = end
    this.readers++
    return createReadStream(this.path, range).once('close', () => this.readers--)
  }

  /** The bytes in memory (for the JSON transport and engines that need them whole). */
  readAll(): Uint8Array {
    return readFileSync(this.path)
  }

  /** JSON.stringify must never inline a file by accident. */
  toJSON(): string {
    throw new Error('FileBytes must be materialised (materializeValues) before JSON serialisation.')
  }
}

export function isFileBytes(value: unknown): value is FileBytes {
  return value instanceof FileBytes
}
