// Real-port suite: the file handoff between the comfyui engine and (fake) ComfyUI (docs/protocol.md
// "Values in files"): large inputs are uploaded, Remote Output files are read back with /view.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createFakeComfyUI, type FakeComfyUI } from '@comfy-remote/io-helpers/testing'
import { base64ToBytes, type EncodedValue, encodeMultipartChunks, encodeNpy } from '@comfy-remote/protocol'
import { createRemoteClient, isRemoteJobError } from '@comfy-remote/remote-client'
import { afterEach, describe, expect, it } from 'vitest'
import { startWorker } from '../src/app.js'
import { echoPrompt, waitUntil } from './helpers.js'

const opened: Array<{ close(): Promise<unknown> }> = []
afterEach(async () => {
  for (const item of opened.splice(0).reverse()) await item.close().catch(() => {})
})

async function setup(
  fakeOptions: Parameters<typeof createFakeComfyUI>[0] = {},
  workerOptions: {
    comfyuiUploadPartBytes?: number
    comfyuiFileTransfer?: 'auto' | 'http'
    spoolDir?: string
  } = {},
) {
  const comfy = await createFakeComfyUI(fakeOptions)
  opened.push(comfy)
  const started = await startWorker({
    ...workerOptions,
    workflow: echoPrompt(),
    // untyped contract: these tests send AUDIO/VIDEO through the `image` input (it feeds ImageInvert, so
    // typed by object_info it is IMAGE and those values would be refused as the wrong type)
    objectInfo: {},
    engine: 'comfyui',
    comfyuiUrl: comfy.url,
    port: 0,
    docs: false,
    historyPollMs: 200,
    shutdownGraceMs: 0,
  })
  opened.push(started.app)
  const client = (transport: 'json' | 'multipart') =>
    createRemoteClient({ url: started.url, transport, retry: { retries: 1, minDelay: 10, maxDelay: 50 } })
  return { comfy, url: started.url, client }
}

const bytesOf = (data: unknown) => (data instanceof Uint8Array ? data : base64ToBytes(String(data)))
/** Byte equality without vitest's element-by-element diff (slow on large arrays). */
const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b)
const uploads = (comfy: FakeComfyUI) =>
  comfy.requests.filter((r) => r.method === 'POST' && r.path === '/upload/image')
const views = (comfy: FakeComfyUI) => comfy.requests.filter((r) => r.path === '/view')
const payloadOf = (comfy: FakeComfyUI, node: string) => {
  const post = comfy.requests.find((r) => r.method === 'POST' && r.path === '/prompt')
  const body = post?.body as { prompt: Record<string, { inputs: { payload?: string } }> } | undefined
  return String(body?.prompt[node]?.inputs.payload)
}

function image(h: number, w: number): Uint8Array {
  return encodeNpy({
    dtype: 'float32',
    shape: [1, h, w, 3],
    data: new Float32Array(h * w * 3).map((_, i) => (i % 977) / 977),
  })
}

describe('comfyui engine: values as files on the ComfyUI side', () => {
  it('a value larger than ComfyUI accepts in one upload goes in parts that Remote Input joins', async () => {
    // ComfyUI refuses request bodies over --max-upload-size (1 MB here; 100 MB by default)
    const { comfy, client } = await setup({ maxUploadSizeMb: 1 }, { comfyuiUploadPartBytes: 512 * 1024 })
    const npy = image(512, 512) // 3 MiB: three times the limit
    const env = await client('multipart').run(
      { image: { type: 'IMAGE', encoding: 'npy', data: npy } },
      { timeout: 20_000 },
    )
    expect(env.status).toBe('completed')
    expect(same(bytesOf(env.outputs?.result?.data), npy)).toBe(true)
    expect(uploads(comfy)).toHaveLength(Math.ceil(npy.byteLength / (512 * 1024)))
    const sent = JSON.parse(payloadOf(comfy, '1')) as { data: { files: Array<{ filename: string }> } }
    expect(sent.data.files.map((f) => f.filename)).toEqual(
      sent.data.files.map((_, i) => expect.stringMatching(new RegExp(`-1-p${i}\\.npy$`))),
    )
    expect(comfy.files().filter(([, s]) => s === 'comfy_remote')).toEqual([]) // every part read and deleted
  })

  it('a PNG bomb or a lying npy header is a 400 naming the input, before anything reaches ComfyUI', async () => {
    const { comfy, url } = await setup()
    const bomb = new Uint8Array(64)
    bomb.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
    new DataView(bomb.buffer).setUint32(16, 30000)
    new DataView(bomb.buffer).setUint32(20, 30000)
    const npy = image(64, 64)
    for (const value of [
      { type: 'IMAGE', encoding: 'png', data: Buffer.from(bomb).toString('base64') },
      { type: 'IMAGE', encoding: 'npy', data: Buffer.from(npy.subarray(0, 1000)).toString('base64') },
    ]) {
      const response = await fetch(`${url}/run`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ inputs: { image: value } }),
      })
      expect(response.status).toBe(400)
      expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(
        /^inputs\.image: /,
      )
    }
    expect(comfy.requests.filter((r) => r.path === '/prompt' || r.path === '/upload/image')).toEqual([])
  })

  it('without parts the same value is refused by that ComfyUI with a 413 that names the fix', async () => {
    const { client } = await setup({ maxUploadSizeMb: 1 }, { comfyuiUploadPartBytes: 8 * 1024 * 1024 })
    const error = await client('multipart')
      .run({ image: { type: 'IMAGE', encoding: 'npy', data: image(512, 512) } }, { timeout: 20_000 })
      .catch((e: unknown) => e)
    expect(isRemoteJobError(error)).toBe(true)
    expect(JSON.stringify((error as { envelope?: unknown }).envelope)).toMatch(/max-upload-size/)
  })

  for (const transport of ['multipart', 'json'] as const) {
    it(`a large IMAGE is uploaded, not inlined, and comes back through /view bit-exact (${transport} client)`, async () => {
      const { comfy, client } = await setup()
      const npy = image(256, 256) // 768 KiB
      const env = await client(transport).run(
        { image: { type: 'IMAGE', encoding: 'npy', data: npy } },
        { timeout: 20_000 },
      )
      expect(env.status).toBe('completed')
      expect(same(bytesOf(env.outputs?.result?.data), npy)).toBe(true)
      const [up] = uploads(comfy)
      expect(uploads(comfy)).toHaveLength(1)
      expect(String(up?.headers['content-type'])).toMatch(/^multipart\/form-data; boundary=/)
      const sent = JSON.parse(payloadOf(comfy, '1')) as {
        data: { file: { filename: string; subfolder: string; type: string } }
      }
      expect(sent.data.file).toMatchObject({ subfolder: 'comfy_remote', type: 'temp' })
      expect(sent.data.file.filename).toMatch(/^cr-[0-9a-f-]{36}-1\.npy$/)
      expect(payloadOf(comfy, '1').length).toBeLessThan(300) // no base64 in the prompt
      expect(views(comfy)).toHaveLength(1)
      expect(views(comfy)[0]?.query).toMatchObject({ subfolder: 'comfy_remote', type: 'temp' })
      // the Remote Input deleted the uploaded file after reading it; the worker released the output file
      expect(comfy.files().filter(([, s]) => s === 'comfy_remote')).toEqual([])
      expect(comfy.requests.filter((r) => r.path === '/comfy-remote/files/release')).toHaveLength(1)
      expect(
        comfy
          .files()
          .filter(
            ([t, s, n]) =>
              t === 'temp' && s === 'comfy_remote' && n.startsWith('cr-') && !n.startsWith('cr-out-'),
          ),
      ).toEqual([])
    })
  }

  it('small values stay inline: no upload, no /view', async () => {
    const { comfy, client } = await setup()
    const npy = image(8, 8)
    const env = await client('multipart').run(
      { image: { type: 'IMAGE', encoding: 'npy', data: npy } },
      { timeout: 20_000 },
    )
    expect(same(bytesOf(env.outputs?.result?.data), npy)).toBe(true)
    expect(uploads(comfy)).toHaveLength(0)
    expect(views(comfy)).toHaveLength(0)
  })

  it('AUDIO {waveform, sample_rate} travels as object(npy + json), the waveform as a file', async () => {
    const { comfy, client } = await setup()
    const waveform = encodeNpy({
      dtype: 'float32',
      shape: [1, 2, 48_000],
      data: new Float32Array(96_000).map((_, i) => Math.sin(i / 10)),
    })
    const audio = {
      type: 'AUDIO',
      encoding: 'object',
      data: {
        waveform: { type: '*', encoding: 'npy', data: waveform },
        sample_rate: { type: 'INT', encoding: 'json', data: 48000 },
      },
    } as EncodedValue
    const env = await client('multipart').run({ image: audio }, { timeout: 20_000 })
    const out = env.outputs?.result as unknown as { data: Record<string, EncodedValue> }
    expect(same(bytesOf(out.data.waveform?.data), waveform)).toBe(true)
    expect(out.data.sample_rate?.data).toBe(48000)
    expect(uploads(comfy)).toHaveLength(1)
    expect(views(comfy)).toHaveLength(1)
  })

  for (const transport of ['multipart', 'json'] as const) {
    it(`VIDEO values (file encoding) round-trip bit-exact with mime and filename (${transport})`, async () => {
      const { comfy, client } = await setup()
      const mp4 = new Uint8Array(300_000).map((_, i) => (i * 13 + 5) & 255)
      mp4.set([0, 0, 0, 0x20, 0x66, 0x74, 0x79, 0x70], 0) // ....ftyp
      const video = {
        type: 'VIDEO',
        encoding: 'file',
        mime: 'video/mp4',
        filename: 'clip.mp4',
        data: mp4,
      } as EncodedValue
      const env = await client(transport).run({ image: video }, { timeout: 20_000 })
      const out = env.outputs?.result as EncodedValue & { mime?: string; filename?: string }
      expect(out).toMatchObject({ type: 'VIDEO', encoding: 'file', mime: 'video/mp4', filename: 'clip.mp4' })
      expect(same(bytesOf(out.data), mp4)).toBe(true)
      const sent = JSON.parse(payloadOf(comfy, '1')) as { data: { file: { filename: string } } }
      expect(sent.data.file.filename).toMatch(/-1\.mp4$/)
    })
  }

  it('an input over ComfyUI --max-upload-size fails with PAYLOAD_TOO_LARGE naming the flag', async () => {
    const { client } = await setup({ maxUploadSizeMb: 1 })
    const error = await client('multipart')
      .run({ image: { type: 'IMAGE', encoding: 'npy', data: image(400, 400) } }, { timeout: 20_000 })
      .catch((e: unknown) => e)
    expect(isRemoteJobError(error)).toBe(true)
    const env = (error as { envelope?: { error?: { code: string; message: string } } }).envelope
    expect(env?.error?.code).toBe('PAYLOAD_TOO_LARGE')
    expect(env?.error?.message).toContain('--max-upload-size')
  })
})

describe('comfyui engine: ComfyUI on the same machine (shared temp/comfy_remote folder)', () => {
  const dirs: string[] = []
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
  })
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'cr-shared-'))
    dirs.push(dir)
    return dir
  }
  const probes = (comfy: FakeComfyUI) => comfy.requests.filter((r) => r.path === '/comfy-remote/files/probe')

  for (const transport of ['multipart', 'json'] as const) {
    it(`files are linked into the folder and taken back from it: no upload, no /view (${transport})`, async () => {
      const dir = tempDir()
      const { comfy, client } = await setup({ tempDir: dir, maxUploadSizeMb: 1 })
      const npy = image(512, 512) // 3 MiB: over this ComfyUI's upload limit, yet one file, no parts
      for (let i = 0; i < 2; i++) {
        const env = await client(transport).run(
          { image: { type: 'IMAGE', encoding: 'npy', data: npy } },
          { timeout: 20_000 },
        )
        expect(env.status).toBe('completed')
        expect(same(bytesOf(env.outputs?.result?.data), npy)).toBe(true)
      }
      expect(uploads(comfy)).toEqual([])
      expect(views(comfy)).toEqual([])
      expect(probes(comfy)).toHaveLength(1) // probed once, remembered
      const sent = JSON.parse(payloadOf(comfy, '1')) as { data: { file: { filename: string } } }
      expect(sent.data.file.filename).toMatch(/^cr-[0-9a-f-]+-1\.npy$/)
      expect(readdirSync(join(dir, 'comfy_remote'))).toEqual([]) // inputs read, outputs taken, probe gone
    })
  }

  it('a released job hands its Remote Output file back as a spare, and the next output is written over it', async () => {
    const dir = tempDir()
    const folder = join(dir, 'comfy_remote')
    const { client } = await setup({ tempDir: dir })
    const spares = () => readdirSync(folder).filter((n) => n.startsWith('cr-spare-'))
    const run = async (npy: Uint8Array) => {
      const c = client('multipart')
      const env = await c.run({ image: { type: 'IMAGE', encoding: 'npy', data: npy } }, { timeout: 20_000 })
      expect(same(bytesOf(env.outputs?.result?.data), npy)).toBe(true)
      return { c, id: env.jobId as string }
    }
    const first = await run(image(512, 512))
    expect(spares()).toEqual([])
    expect(await first.c.release(first.id)).toBe(true)
    await waitUntil(() => spares().length === 1)
    const inode = statSync(join(folder, spares()[0] as string)).ino
    const second = await run(image(256, 256)) // smaller: written over the spare, cut to size
    expect(spares()).toEqual([])
    expect(await second.c.release(second.id)).toBe(true)
    await waitUntil(() => spares().length === 1)
    expect(statSync(join(folder, spares()[0] as string)).ino).toBe(inode)
    expect(statSync(join(folder, spares()[0] as string)).size).toBe(image(256, 256).byteLength)
  })

  it('a finished job without an Idempotency-Key deletes its spooled inputs at once; outputs stay', async () => {
    const spoolDir = tempDir()
    const { url } = await setup({ tempDir: tempDir() }, { spoolDir })
    const spooled = () =>
      readdirSync(spoolDir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile())
    const npy = image(512, 512) // 3 MiB: a spooled part
    const send = (data: Uint8Array, key?: string) => {
      const { chunks, contentType } = encodeMultipartChunks({
        inputs: { image: { type: 'IMAGE', encoding: 'npy', data } },
      })
      return fetch(`${url}/run?wait=20`, {
        method: 'POST',
        headers: {
          'content-type': contentType,
          accept: 'application/json',
          ...(key === undefined ? {} : { 'idempotency-key': key }),
        },
        body: Buffer.concat(chunks),
      })
    }
    const first = await send(npy)
    expect(first.status).toBe(200)
    const env = (await first.json()) as { job_id: string; outputs: { result: { data: string } } }
    expect(same(base64ToBytes(env.outputs.result.data), npy)).toBe(true)
    // the input part is gone, the output (taken from ComfyUI's folder) stays readable
    await waitUntil(() => spooled().length === 1)
    const output = await fetch(`${url}/jobs/${env.job_id}/outputs/result`)
    expect(same(new Uint8Array(await output.arrayBuffer()), npy)).toBe(true)
    // with a key the input stays: a replay of the same bytes is the same job, one byte off a 409
    const keyed = (await (await send(npy, 'k-keep')).json()) as { job_id: string }
    expect(spooled().length).toBe(3)
    expect(((await (await send(npy, 'k-keep')).json()) as { job_id: string }).job_id).toBe(keyed.job_id)
    const changed = npy.slice()
    changed[changed.length - 1] = (changed[changed.length - 1] ?? 0) ^ 1
    const conflict = await send(changed, 'k-keep')
    expect(conflict.status).toBe(409)
  })

  it('a folder the worker cannot prove it shares (another machine) means HTTP, and works', async () => {
    const dir = tempDir()
    const elsewhere = join(tempDir(), 'comfy_remote') // what a remote ComfyUI's path looks like here
    mkdirSync(elsewhere)
    const { comfy, client } = await setup({
      tempDir: dir,
      onRequest: (r) =>
        r.path === '/comfy-remote/files/folder' ? { status: 200, body: { folder: elsewhere } } : undefined,
    })
    const npy = image(256, 256)
    const env = await client('multipart').run(
      { image: { type: 'IMAGE', encoding: 'npy', data: npy } },
      { timeout: 20_000 },
    )
    expect(same(bytesOf(env.outputs?.result?.data), npy)).toBe(true)
    expect(uploads(comfy)).toHaveLength(1)
    expect(views(comfy)).toHaveLength(1)
    expect(readdirSync(elsewhere)).toEqual([]) // the probe file is removed
  })

  it('--comfyui-file-transfer http never probes', async () => {
    const { comfy, client } = await setup({ tempDir: tempDir() }, { comfyuiFileTransfer: 'http' })
    const env = await client('multipart').run(
      { image: { type: 'IMAGE', encoding: 'npy', data: image(256, 256) } },
      { timeout: 20_000 },
    )
    expect(env.status).toBe('completed')
    expect(uploads(comfy)).toHaveLength(1)
    expect(comfy.requests.filter((r) => r.path.startsWith('/comfy-remote/files/f'))).toEqual([])
  })
})

describe('comfyui engine: files placed for a job that never reads them', () => {
  it('a failed job leaves nothing in ComfyUI’s folder', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cr-shared-fail-'))
    try {
      const { client } = await setup({
        tempDir: dir,
        // ComfyUI refuses the prompt before any node runs: Remote Input never reads its file
        onRequest: (r) =>
          r.method === 'POST' && r.path === '/prompt'
            ? { status: 400, body: { error: { type: 'x', message: 'refused' }, node_errors: {} } }
            : undefined,
      })
      const error = await client('multipart')
        .run({ image: { type: 'IMAGE', encoding: 'npy', data: image(256, 256) } }, { timeout: 20_000 })
        .catch((e: unknown) => e)
      expect(isRemoteJobError(error)).toBe(true)
      expect(readdirSync(join(dir, 'comfy_remote'))).toEqual([])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('comfyui engine: large base64 is checked strictly before a job exists', () => {
  it('a 1 MiB+ base64 value with characters outside the alphabet is a 400 naming the field', async () => {
    const { comfy, url } = await setup()
    const good = Buffer.from(image(512, 512)).toString('base64') // 4 MiB of text: over the parse-time check
    const bad = `${good.slice(0, 1_000_000)}!!!!${good.slice(1_000_004)}`
    const response = await fetch(`${url}/run`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: { image: { type: 'IMAGE', encoding: 'npy', data: bad } } }),
    })
    expect(response.status).toBe(400)
    const body = (await response.json()) as { error: { message: string; details: { field: string } } }
    expect(body.error.message).toMatch(/^inputs\.image\.data: not valid base64/)
    expect(body.error.details.field).toBe('inputs.image.data')
    expect(comfy.requests.filter((r) => r.path === '/prompt' || r.path === '/upload/image')).toEqual([])
  })
})
