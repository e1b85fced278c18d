// A hostile endpoint against `comfy-remote call` (issue 14 defect 5): the CLI's memory and the number
// of files it writes stay bounded, output names never collide, and every failure carries a code.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { deflateSync } from 'node:zlib'
import { bytesToBase64, encodeNpy } from '@comfy-remote/protocol'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bins, runNode } from './support/processes.js'

const root = mkdtempSync(join(tmpdir(), 'comfy-remote-e2e-hostile-cli-'))
let answer = ''
let server: Server
let url = ''

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(answer)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
})
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve))
  rmSync(root, { recursive: true, force: true })
})

const completed = (outputs: Record<string, unknown>) =>
  JSON.stringify({ status: 'completed', job_id: 'j1', progress: { value: 1, max: 1 }, outputs })

async function call(name: string, extra: string[] = []) {
  const out = join(root, name)
  const result = await runNode(
    bins.remoteClient,
    ['call', url, '--input', 'x=1', '--out', out, '--quiet', ...extra],
    { timeoutMs: 60_000 },
  )
  let files: string[] = []
  try {
    files = readdirSync(out).sort()
  } catch {
    // not created
  }
  return { ...result, out, files }
}

/** A 16-bit RGBA PNG of width x height whose pixels are all zero (tiny compressed, huge decoded). */
function png16(width: number, height: number): Uint8Array {
  const chunk = (kind: string, body: Buffer) => {
    const head = Buffer.alloc(8)
    head.writeUInt32BE(body.length)
    head.write(kind, 4, 'latin1')
    return Buffer.concat([head, body, Buffer.alloc(4)]) // CRCs are not checked by the decoders used
  }
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(width, 0)
  ihdr.writeUInt32BE(height, 4)
  ihdr.set([16, 6, 0, 0, 0], 8)
  const rows = deflateSync(Buffer.alloc(height * (1 + width * 8)), { level: 1 })
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
  return Buffer.concat([signature, chunk('IHDR', ihdr), chunk('IDAT', rows), chunk('IEND', Buffer.alloc(0))])
}

describe('a hostile endpoint against the CLI (defect 5)', () => {
  it('outputs named a/b and a_b (and A_B) are written to distinct files, none overwritten', async () => {
    const json = (data: string) => ({ type: 'STRING', encoding: 'json', data })
    answer = completed({ 'a/b': json('slash'), a_b: json('underscore'), A_B: json('upper') })
    const r = await call('collide')
    expect(r.code).toBe(0)
    expect(r.files).toEqual(['A_B.json', 'a_b-2.json', 'a_b.json'].sort())
    const texts = r.files.map((f) => JSON.parse(readFileSync(join(r.out, f), 'utf8')) as string).sort()
    expect(texts).toEqual(['slash', 'underscore', 'upper'])
  })

  it('an npy IMAGE [20000,1,1,1] is kept as one .npy, not 20,000 files (--max-files raises it)', async () => {
    const data = encodeNpy({ dtype: 'float32', shape: [20_000, 1, 1, 1], data: new Float32Array(20_000) })
    answer = completed({ image: { type: 'IMAGE', encoding: 'npy', data: bytesToBase64(data) } })
    const r = await call('many')
    expect(r.code).toBe(0)
    expect(r.files).toEqual(['image.npy'])
    expect(r.stderr).toMatch(/image: a batch of 20000 images would be 20000 files \(over --max-files 256\)/)
    const small = encodeNpy({ dtype: 'float32', shape: [3, 1, 1, 1], data: new Float32Array(3) })
    answer = completed({ image: { type: 'IMAGE', encoding: 'npy', data: bytesToBase64(small) } })
    expect((await call('few')).files).toEqual(['image_0.png', 'image_1.png', 'image_2.png'])
    expect((await call('few-capped', ['--max-files', '2'])).files).toEqual(['image.npy'])
  })

  it('a 16-bit PNG batch that would decode to gigabytes is written as it came, never decoded', async () => {
    const png = png16(4096, 4096) // 268 MB of 16-bit samples, ~400 MB as float32 per batch split
    expect(png.length).toBeLessThan(1024 * 1024)
    answer = completed({ image: { type: 'IMAGE', encoding: 'png', batch: 2, data: bytesToBase64(png) } })
    const r = await call('bomb', ['--max-decoded-mb', '64'])
    expect(r.code).toBe(0)
    expect(r.files).toEqual(['image.png'])
    expect(readFileSync(join(r.out, 'image.png')).length).toBe(png.length)
    expect(r.stderr).toMatch(/over --max-decoded-mb/)
  })

  it('more outputs than --max-files is OUTPUT_LIMIT and nothing is written', async () => {
    const outputs: Record<string, unknown> = {}
    for (let i = 0; i < 300; i++) outputs[`o${i}`] = { type: 'INT', encoding: 'json', data: i }
    answer = completed(outputs)
    const r = await call('limit')
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/^comfy-remote: OUTPUT_LIMIT: the endpoint returned 300 outputs/)
    expect(r.files).toEqual([])
    expect((await call('limit-raised', ['--max-files', '300'])).files).toHaveLength(300)
  })

  it('a 20,000-deep JSON result is a coded error, not a stack overflow', async () => {
    const deep = `${'['.repeat(20_000)}1${']'.repeat(20_000)}`
    answer = `{"status": "completed", "job_id": "j1", "outputs": {"x": {"type": "*", "encoding": "json", "data": ${deep}}}}`
    const r = await call('deep')
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/^comfy-remote: [A-Z_]+: .*deeper than 256 levels/)
    expect(r.stderr).not.toMatch(/Maximum call stack|INTERNAL|ERROR:/)
  })
})
