// A 12 MiB IMAGE through remote-client -> mock worker (echo, shared process) -> back, in both
// transports, and every way the client can follow a job: the bytes come back identical.
import { createHash } from 'node:crypto'
import { base64ToBytes, type EncodedValue, encodeNpy } from '@comfy-remote/protocol'
import { createRemoteClient } from '@comfy-remote/remote-client'
import { describe, expect, it } from 'vitest'
import { workerUrl } from './support/shared.js'

const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')
const bytesOf = (value: EncodedValue | undefined): Uint8Array =>
  typeof value?.data === 'string' ? base64ToBytes(value.data) : (value?.data as Uint8Array)

// 1024 x 1024 x 3 float32 = 12 MiB of pixels, not all equal (a constant image would hide reordering).
const pixels = new Float32Array(1024 * 1024 * 3)
for (let i = 0; i < pixels.length; i++) pixels[i] = (i % 997) / 996
const npy = encodeNpy({ dtype: 'float32', shape: [1, 1024, 1024, 3], data: pixels })
const image: EncodedValue = { type: 'IMAGE', encoding: 'npy', data: npy }

describe('a 12 MiB image round trip', () => {
  it.each(['multipart', 'json'] as const)(
    'over the %s transport comes back byte-identical',
    async (transport) => {
      const client = createRemoteClient({
        url: workerUrl('echo', 'image-invert'),
        transport,
        timeout: 60_000,
      })
      const job = await client.run({ image })
      expect(job.status).toBe('completed')
      const back = bytesOf(job.outputs?.image)
      expect(back.byteLength).toBe(npy.byteLength)
      expect(sha(back)).toBe(sha(npy))
    },
  )
})

describe('every way of following a job', () => {
  const small: EncodedValue = { type: 'STRING', encoding: 'json', data: 'follow me' }
  it.each(['events', 'long-poll', 'poll', 'auto'] as const)(
    'follow=%s: same outputs, progress in order up to done',
    async (follow) => {
      const client = createRemoteClient({
        url: workerUrl('echo', 'typed-inputs'),
        follow,
        pollInterval: 50,
        timeout: 30_000,
      })
      const progress: number[] = []
      const job = await client.run({ prompt: small }, { onProgress: (p) => progress.push(p.value / p.max) })
      expect(job.status).toBe('completed')
      expect(job.outputs?.prompt).toEqual(small)
      expect(progress).toEqual([...progress].sort((a, b) => a - b))
      expect(progress.at(-1)).toBe(1)
    },
  )
})
