import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { uploadFile } from './comfyui-files.js'

// ComfyUI answers POST /upload/image only after it has parsed the whole multipart body and copied the
// file (server.py: `await request.post()`, then `image.file.read()`): for a large file, seconds with no
// byte on the socket. The lab's 1 GiB job failed there on the 30 s idle timeout (LEARNINGS).
const THINK_MS = 2_500
let received = 0
const server = createServer((req, res) => {
  req.on('data', (chunk: Buffer) => {
    received += chunk.byteLength
  })
  req.on('end', () => {
    setTimeout(() => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end('{"name": "cr-x-1.npy", "subfolder": "comfy_remote", "type": "temp"}')
    }, THINK_MS)
  })
})
let url = ''
beforeAll(async () => {
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

it('a large upload waits for ComfyUI to digest the body beyond the idle timeout', async () => {
  const size = 32 * 1024 * 1024
  const file = {
    ref: { filename: 'cr-x-1.npy', subfolder: 'comfy_remote', type: 'temp' as const },
    source: new Uint8Array(size),
    offset: 0,
    size,
  }
  await expect(uploadFile(url, file, 1_000)).resolves.toBeUndefined()
  expect(received).toBeGreaterThan(size)
})

it('the idle timeout still ends an upload whose server never answers', async () => {
  const silent = createServer((req) => req.resume())
  silent.listen(0, '127.0.0.1')
  await once(silent, 'listening')
  const file = {
    ref: { filename: 'cr-x-2.npy', subfolder: 'comfy_remote', type: 'temp' as const },
    source: new Uint8Array(1024),
    offset: 0,
    size: 1024,
  }
  const error = await uploadFile(
    `http://127.0.0.1:${(silent.address() as AddressInfo).port}`,
    file,
    200,
  ).catch((e: unknown) => e)
  silent.close()
  expect(error).toMatchObject({ code: 'COMFYUI_UNAVAILABLE' })
  expect((error as Error).message).toMatch(/no progress/)
})
