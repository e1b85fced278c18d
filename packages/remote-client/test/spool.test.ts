import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { encodeMultipart } from '@comfy-remote/protocol'
import { afterEach, describe, expect, it } from 'vitest'
import { createRemoteClient, isRemoteJobError } from '../src/index.js'
import { json, startServer, type TestServer } from './helpers/server.js'

const big = Uint8Array.from({ length: 3 * 1024 * 1024 + 5 }, (_, i) => (i * 11) % 256)
const clip = Uint8Array.from({ length: 1024 * 1024 }, (_, i) => (i * 3) % 256)
const small = Uint8Array.from({ length: 100 }, (_, i) => i)
const input = { a: { type: 'INT', encoding: 'json', data: 1 } } as const

let server: TestServer | undefined
const dirs: string[] = []
afterEach(async () => {
  await server?.close()
  server = undefined
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

/** A v1 worker (no output refs) whose finished job answers multipart; `cut` truncates the body. */
async function start(cut?: number) {
  let cuts = cut === undefined ? 0 : 1
  server = await startServer((req, res) => {
    if (req.path === '/health') return json(res, 200, { transports: ['json', 'multipart'] })
    const image = { type: 'IMAGE', encoding: 'npy', data: big }
    const envelope = {
      status: 'completed',
      job_id: 'j1',
      result: image,
      outputs: {
        image,
        clip: { type: 'VIDEO', encoding: 'file', mime: 'video/webm', data: clip },
        mask: { type: 'MASK', encoding: 'npy', data: small },
        n: { type: 'INT', encoding: 'json', data: 7 },
      },
    }
    const { body, contentType } = encodeMultipart(envelope)
    res.writeHead(200, { 'content-type': contentType, 'content-length': body.byteLength })
    if (cuts > 0 && cut !== undefined) {
      cuts--
      res.write(body.subarray(0, cut))
      setTimeout(() => res.socket?.destroy(), 30)
      return
    }
    res.end(body)
  })
  return server
}

const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'cr-spool-'))
  dirs.push(d)
  return d
}
const run = (url: string, dir: string) =>
  createRemoteClient({ url, timeout: 10_000, retry: { retries: 2, minDelay: 10, maxDelay: 20 } }).run(input, {
    outputFiles: { dir },
  })

describe('multipart answers streamed into files (outputFiles, a worker without output refs)', () => {
  it('writes binary parts of 1 MiB and more into files named by output, keeps small ones in memory', async () => {
    const s = await start()
    const dir = tmp()
    const env = await run(s.url, dir)
    const image = env.outputs?.image?.data as { file: string }
    const video = env.outputs?.clip?.data as { file: string }
    expect(image.file).toBe(join(dir, 'out-image.npy'))
    expect(video.file).toBe(join(dir, 'out-clip.webm'))
    expect(readFileSync(image.file).equals(Buffer.from(big))).toBe(true)
    expect(readFileSync(video.file).equals(Buffer.from(clip))).toBe(true)
    expect(env.result?.data).toEqual(image) // result and its output: one part, one file
    expect(Buffer.from(env.outputs?.mask?.data as Uint8Array).equals(Buffer.from(small))).toBe(true)
    expect(env.outputs?.n?.data).toBe(7)
    expect(readdirSync(dir).sort()).toEqual(['out-clip.webm', 'out-image.npy'])
  })

  it('a body cut mid-part leaves no file behind and the poll is retried', async () => {
    const s = await start(2 * 1024 * 1024)
    const dir = tmp()
    const env = await run(s.url, dir)
    expect(readFileSync((env.outputs!.image!.data as { file: string }).file).equals(Buffer.from(big))).toBe(
      true,
    )
    expect(readdirSync(dir).sort()).toEqual(['out-clip.webm', 'out-image.npy'])
    expect(s.requests.filter((r) => r.method === 'POST').length).toBeGreaterThanOrEqual(2)
  })

  it('a body that is always cut fails NETWORK and leaves the folder empty', async () => {
    server = await startServer((req, res) => {
      if (req.path === '/health') return json(res, 200, { transports: ['json', 'multipart'] })
      const { body, contentType } = encodeMultipart({
        status: 'completed',
        job_id: 'j1',
        outputs: { image: { type: 'IMAGE', encoding: 'npy', data: big } },
      })
      res.writeHead(200, { 'content-type': contentType, 'content-length': body.byteLength })
      res.write(body.subarray(0, 2 * 1024 * 1024))
      setTimeout(() => res.socket?.destroy(), 30)
    })
    const dir = tmp()
    const error = await run(server.url, dir).catch((e: unknown) => e)
    expect(isRemoteJobError(error) && error.code).toBe('NETWORK')
    expect(readdirSync(dir)).toEqual([])
  })
})
