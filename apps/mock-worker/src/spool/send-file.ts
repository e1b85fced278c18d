import { open } from 'node:fs/promises'
import type { ServerResponse } from 'node:http'
import type { FileBytes } from './file-bytes.js'

/*
 * Sends a spooled file's bytes through a few reused buffers. A read stream allocates a new buffer per
 * chunk; in the worker (a ~20 MB heap) every 64 MB of such buffers costs a full garbage collection, about
 * 50 ms of CPU per 48 MiB served. Here a buffer goes back to the pool once the socket has taken it
 * (the `write` callback), so serving allocates nothing after the first responses.
 */

const CHUNK_BYTES = 1024 * 1024
/** Chunks one response has handed to the socket and not seen written yet. */
const IN_FLIGHT = 4
/** Idle buffers kept for the next responses (16 MiB); more are left to the garbage collector. */
const POOL_MAX = 16
const pool: Buffer[] = []

function take(): Buffer {
  return pool.pop() ?? Buffer.allocUnsafeSlow(CHUNK_BYTES)
}

function give(buffer: Buffer): void {
  if (pool.length < POOL_MAX) pool.push(buffer)
}

/**
 * Writes bytes `start..end` (inclusive) of a spooled file to `res` and ends it. Rejects when the file
 * is shorter than announced or the client went away (the response is then destroyed).
 */
export async function sendFileRange(
  res: ServerResponse,
  bytes: FileBytes,
  start: number,
  end: number,
): Promise<void> {
  const path = bytes.path
  bytes.readers++
  const file = await open(path, 'r').catch((error: unknown) => {
    bytes.readers--
    throw error
  })
  let inFlight = 0
  let wake: (() => void) | undefined
  const settle = (): void => {
    const resume = wake
    wake = undefined
    resume?.()
  }
  res.on('close', settle)
  try {
    let at = start
    while (at <= end) {
      while (inFlight >= IN_FLIGHT && !res.destroyed) await new Promise<void>((resolve) => (wake = resolve))
      if (res.destroyed) throw new Error('the client closed the connection before the answer ended')
      const buffer = take()
      const { bytesRead } = await file.read(buffer, 0, Math.min(CHUNK_BYTES, end - at + 1), at)
      if (bytesRead === 0) {
        give(buffer)
        throw new Error(`${path} ended at byte ${at}, before byte ${end}`)
      }
      at += bytesRead
      inFlight++
      res.write(bytesRead === CHUNK_BYTES ? buffer : buffer.subarray(0, bytesRead), (error) => {
        inFlight--
        if (!error) give(buffer)
        settle()
      })
    }
    await new Promise<void>((resolve) => {
      res.once('close', resolve)
      res.end(resolve)
    })
  } catch (error) {
    res.destroy()
    throw error
  } finally {
    res.off('close', settle)
    await file.close()
    bytes.readers--
  }
}
