import { createReadStream, readFileSync } from 'node:fs'

/** Read streams of spooled files use 1 MiB chunks: with the 64 KiB default a 48 MiB file takes 3x longer. */
export const FILE_CHUNK_BYTES = 1024 * 1024

import type { Readable } from 'node:stream'

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
  /** SHA-256 (hex) of the bytes when it was computed while they were written (Idempotency-Key checks). */
  readonly sha256: string | undefined

  constructor(path: string, size: number, sha256?: string) {
    this.path = path
    this.size = size
    this.sha256 = sha256
  }

  get byteLength(): number {
    return this.size
  }

  /** A stream of the bytes, or of `start..end` (inclusive, as HTTP ranges) of them. */
  stream(start?: number, end?: number): Readable {
    const range: { start?: number; end?: number; highWaterMark: number } = { highWaterMark: FILE_CHUNK_BYTES }
    if (start !== undefined) range.start = start
    if (end !== undefined) range.end = end
    return createReadStream(this.path, range)
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
