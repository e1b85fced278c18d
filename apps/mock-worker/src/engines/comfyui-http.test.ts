import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { ComfyHttp } from './comfyui-http.js'

// aiohttp answers a body over ComfyUI's --max-upload-size with a plain-text 413.
const server = createServer((req, res) => {
  req.resume()
  res.writeHead(413, { 'content-type': 'text/plain; charset=utf-8' })
  res.end('413: Request Entity Too Large')
})
let url = ''
beforeAll(async () => {
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

it('a prompt ComfyUI refuses as too large is PAYLOAD_TOO_LARGE naming --max-upload-size', async () => {
  const http = new ComfyHttp(url, 5_000)
  const error = await http.postPrompt({}, 'client').catch((e: unknown) => e)
  expect(error).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' })
  expect((error as Error).message).toMatch(/--max-upload-size/)
})
