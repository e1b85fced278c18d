import { createReadStream, readFileSync } from 'node:fs'
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

  constructor(path: string, size: number) {
    this.path = path
    this.size = size
  }

  get byteLength(): number {
    return this.size
  }

  /** A stream of the bytes, or of `start..end` (inclusive, as HTTP ranges) of them. */
  stream(start?: number, end?: number): Readable {
    const range: { start?: number; end?: number } = {}
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
