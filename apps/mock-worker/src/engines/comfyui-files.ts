import { randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import type { ComfyFileRef, PlannedFile } from '@comfy-remote/io-helpers'
import { MockWorkerError } from '../errors.js'
import { FILE_CHUNK_BYTES } from '../spool/file-bytes.js'

/*
 * The file handoff with ComfyUI (docs/protocol.md "Values in files"): large input values are uploaded
 * through ComfyUI's `POST /upload/image` before the prompt is queued; large Remote Output values are
 * read back with `GET /view`. Both stream: memory holds at most the value itself (an input already in
 * memory is written from that buffer; a file-backed one is streamed from disk).
 */

/**
 * Where a value read back from ComfyUI goes: the default keeps it in memory (one buffer of its size);
 * a worker that keeps large values file-backed passes its own (e.g. spool the stream to disk).
 */
export type ViewSink = (
  ref: ComfyFileRef,
  body: ReadableStream<Uint8Array>,
  size: number | undefined,
) => Promise<unknown>

function field(boundary: string, name: string, value: string): string {
  return `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`
}

/**
 * ComfyUI answers an upload only after it has parsed the whole multipart body and copied the file
 * (server.py: `await request.post()`, then `image.file.read()`), with no byte on the socket meanwhile.
 * Once the body is sent, the idle timeout grows by the time that takes at this (slow) rate.
 */
const DIGEST_BYTES_PER_SECOND = 8 * 1024 * 1024

/** Upload one planned file (multipart field `image`, `type`, `subfolder=comfy_remote`, `overwrite=true`). */
export function uploadFile(baseUrl: string, file: PlannedFile, idleTimeoutMs: number): Promise<void> {
  const boundary = `comfyremote${randomBytes(12).toString('hex')}`
  const head = Buffer.from(
    field(boundary, 'type', file.ref.type) +
      field(boundary, 'subfolder', file.ref.subfolder) +
      field(boundary, 'overwrite', 'true') +
      `--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="${file.ref.filename}"\r\n` +
      'Content-Type: application/octet-stream\r\n\r\n',
  )
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`)
  const url = new URL('/upload/image', `${baseUrl}/`)
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest
  const where = `POST /upload/image (${file.ref.filename}, ${file.size} bytes)`
  return new Promise<void>((resolve, reject) => {
    let settled = false
    const done = (error?: unknown) => {
      if (settled) return
      settled = true
      if (error) reject(error)
      else resolve()
    }
    const req = send(url, {
      method: 'POST',
      headers: {
        'content-type': `multipart/form-data; boundary=${boundary}`,
        'content-length': String(head.byteLength + file.size + tail.byteLength),
      },
    })
    let idleMs = idleTimeoutMs
    req.setTimeout(idleTimeoutMs, () => req.destroy(new Error(`no progress for ${idleMs} ms`)))
    req.once('finish', () => {
      idleMs = idleTimeoutMs + Math.ceil((file.size / DIGEST_BYTES_PER_SECOND) * 1000)
      req.setTimeout(idleMs)
    })
    req.on('response', (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        if (res.statusCode === 200) return done()
        if (res.statusCode === 413) {
          return done(
            new MockWorkerError(
              'PAYLOAD_TOO_LARGE',
              `ComfyUI refused an input file of ${file.size} bytes (HTTP 413 on ${where}): start ComfyUI with a larger --max-upload-size (in MB, default 100).`,
            ),
          )
        }
        done(
          new MockWorkerError(
            'COMFYUI_PROTOCOL',
            `ComfyUI answered ${where} with HTTP ${res.statusCode}: ${text.slice(0, 200)}`,
          ),
        )
      })
      res.on('error', done)
    })
    req.on('error', (cause) => {
      const code = (cause as { code?: string }).code
      const reason = code ?? (cause as Error).message
      // A server that refuses a body as too large may answer 413 and close while we still write: the
      // write fails (EPIPE/ECONNRESET) and the 413 may or may not be read first. Give it a moment.
      const cut = code === 'EPIPE' || code === 'ECONNRESET'
      const hint = cut
        ? ' ComfyUI closed the connection mid-upload: it does that to files over its --max-upload-size (in MB, default 100; start it with a larger one), or it stopped.'
        : ' Check that ComfyUI is running.'
      setTimeout(
        () =>
          done(
            new MockWorkerError(
              'COMFYUI_UNAVAILABLE',
              `Cannot upload to ComfyUI at ${baseUrl} (${where}: ${reason}).${hint}`,
              { cause },
            ),
          ),
        cut ? 500 : 0,
      )
    })
    req.write(head)
    if (file.source instanceof Uint8Array) {
      req.write(file.source.subarray(file.offset, file.offset + file.size))
      req.end(tail)
    } else {
      const stream = createReadStream(file.source.path, {
        highWaterMark: FILE_CHUNK_BYTES,
        start: file.offset,
        end: file.offset + file.size - 1,
      })
      stream.on('error', (cause) => req.destroy(cause))
      stream.on('end', () => req.end(tail))
      stream.pipe(req, { end: false })
    }
  })
}

/** Read a buffer of known or unknown size from a stream, holding the bytes once. */
async function readAll(body: ReadableStream<Uint8Array>, size: number | undefined): Promise<Uint8Array> {
  const reader = body.getReader()
  if (size !== undefined) {
    const out = new Uint8Array(size)
    let at = 0
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      if (at + value.byteLength > size) throw new Error(`more than the announced ${size} bytes`)
      out.set(value, at)
      at += value.byteLength
    }
    if (at !== size) throw new Error(`${at} of ${size} bytes`)
    return out
  }
  const chunks: Uint8Array[] = []
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    chunks.push(value)
  }
  return new Uint8Array(Buffer.concat(chunks))
}

/** `GET /view` of a Remote Output file, streamed into `sink` (default: one buffer of its size). */
export async function readViewFile(
  baseUrl: string,
  ref: ComfyFileRef,
  idleTimeoutMs: number,
  sink?: ViewSink,
): Promise<unknown> {
  const query = new URLSearchParams({ filename: ref.filename, subfolder: ref.subfolder, type: ref.type })
  const where = `GET /view?${query}`
  const abort = new AbortController()
  let timer = setTimeout(() => abort.abort(), idleTimeoutMs)
  const touch = () => {
    clearTimeout(timer)
    timer = setTimeout(() => abort.abort(), idleTimeoutMs)
  }
  try {
    const response = await fetch(`${baseUrl}/view?${query}`, { signal: abort.signal })
    if (response.status !== 200 || !response.body) {
      await response.body?.cancel()
      throw new MockWorkerError(
        'COMFYUI_PROTOCOL',
        `ComfyUI answered ${where} with HTTP ${response.status}: the Remote Output file is gone (files in temp/comfy_remote are kept for an hour, and ComfyUI empties temp when it restarts).`,
      )
    }
    const length = response.headers.get('content-length')
    const size = length === null ? undefined : Number(length)
    const watched = response.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          touch()
          controller.enqueue(chunk)
        },
      }),
    )
    return await (sink ? sink(ref, watched, size) : readAll(watched, size))
  } catch (cause) {
    if (cause instanceof MockWorkerError) throw cause
    throw new MockWorkerError(
      'COMFYUI_UNAVAILABLE',
      `Cannot read a Remote Output file from ComfyUI at ${baseUrl} (${where}: ${(cause as Error).message}).`,
      { cause },
    )
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Tell the node pack the Remote Output files were read (`POST /comfy-remote/files/release`), so they do
 * not wait an hour in ComfyUI's temp folder. Best effort: an older pack (404) or an error changes nothing.
 */
export async function releaseViewFiles(
  baseUrl: string,
  refs: ComfyFileRef[],
  timeoutMs: number,
): Promise<void> {
  const files = refs.filter((r) => r.type === 'temp' && r.filename.startsWith('cr-out-'))
  if (files.length === 0) return
  try {
    const response = await fetch(`${baseUrl}/comfy-remote/files/release`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ files }),
      signal: AbortSignal.timeout(timeoutMs),
    })
    await response.body?.cancel()
  } catch {
    // the files are pruned after an hour anyway
  }
}
