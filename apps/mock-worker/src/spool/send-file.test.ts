import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, get, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FileBytes } from './file-bytes.js'
import { sendFileRange } from './send-file.js'

const dir = mkdtempSync(join(tmpdir(), 'send-file-'))
const path = join(dir, 'payload.bin')
// more chunks than are in flight at once, and more than loopback socket buffers hold
const payload = randomBytes(32 * 1024 * 1024 + 123)
let server: Server
let base = ''
/** How each answer ended, by its `id` query parameter: undefined when sent whole. */
const outcomes = new Map<string, Error | undefined>()

beforeAll(async () => {
  writeFileSync(path, payload)
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x')
    const start = Number(url.searchParams.get('start') ?? 0)
    const end = Number(url.searchParams.get('end') ?? payload.length - 1)
    res.writeHead(200, { 'content-length': end - start + 1 })
    const id = url.searchParams.get('id') ?? ''
    sendFileRange(res, new FileBytes(url.searchParams.get('path') ?? path, payload.length), start, end).then(
      () => outcomes.set(id, undefined),
      (error: Error) => outcomes.set(id, error),
    )
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(() => {
  server.close()
  rmSync(dir, { recursive: true, force: true })
})

function fetchBytes(query: string): Promise<Buffer> {
  return fetch(`${base}/?${query}`).then(async (r) => Buffer.from(await r.arrayBuffer()))
}

async function ended(id: string): Promise<void> {
  const until = Date.now() + 5000
  while (!outcomes.has(id) && Date.now() < until) await new Promise((r) => setTimeout(r, 20))
}

describe('sendFileRange', () => {
  it('sends the whole file and any range byte-exact, also several at once through the shared buffers', async () => {
    const [whole, part, again] = await Promise.all([
      fetchBytes(''),
      fetchBytes('start=1048570&end=3145735'),
      fetchBytes(''),
    ])
    expect(whole.equals(payload)).toBe(true)
    expect(again.equals(payload)).toBe(true)
    expect(part.equals(payload.subarray(1048570, 3145736))).toBe(true)
    expect((await fetchBytes('start=5&end=5')).equals(payload.subarray(5, 6))).toBe(true)
  })

  it('rejects when the client goes away mid-answer, and the next answer is still exact', async () => {
    await new Promise<void>((resolve) => {
      const req = get(`${base}/?id=gone`, (res) => {
        res.pause() // read nothing: the answer waits on the socket
        setTimeout(() => {
          req.destroy()
          resolve()
        }, 200)
      })
      req.on('error', () => {})
    })
    await ended('gone')
    expect(outcomes.get('gone')?.message).toMatch(/closed the connection/)
    expect((await fetchBytes('')).equals(payload)).toBe(true)
  })

  it('rejects (and cuts the answer) when the file is shorter than the range it announced', async () => {
    const short = join(dir, 'short.bin')
    writeFileSync(short, payload.subarray(0, 1000))
    await expect(fetchBytes(`id=short&path=${encodeURIComponent(short)}&start=0&end=1999`)).rejects.toThrow()
    await ended('short')
    expect(outcomes.get('short')?.message).toMatch(/ended at byte 1000/)
  })
})
