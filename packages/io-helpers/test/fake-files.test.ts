import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  COMFY_REMOTE_SUBFOLDER,
  fileRefsIn,
  injectInputsWithFiles,
  planFileHandoff,
  resolveFileRefs,
} from '../src/index.js'
import type { FakeComfyUI } from '../src/testing/index.js'
import { createFakeComfyUI } from '../src/testing/index.js'
import type { ApiPrompt, EncodedValue } from '../src/types.js'
import { waitFor } from './helpers.js'

let fake: FakeComfyUI
beforeAll(async () => {
  fake = await createFakeComfyUI({ maxUploadSizeMb: 1 })
})
afterAll(async () => {
  await fake.close()
})

const upload = (fields: Record<string, string>, file?: { name: string; bytes: Uint8Array }) => {
  const form = new FormData()
  for (const [k, v] of Object.entries(fields)) form.set(k, v)
  if (file) form.set('image', new Blob([file.bytes as BlobPart]), file.name)
  return fetch(`${fake.url}/upload/image`, { method: 'POST', body: form })
}
const view = (query: string, headers: Record<string, string> = {}) =>
  fetch(`${fake.url}/view?${query}`, { headers })
/** Byte equality without vitest's element-by-element diff (slow on large arrays). */
const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b)
const bytes = (n: number, seed = 1) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 255)

describe('POST /upload/image and GET /view as in ComfyUI server.py (0.3.64 and 0.26.0)', () => {
  it('accepts type temp with a subfolder, then /view serves the bytes with a guessed content type', async () => {
    const data = bytes(70_000)
    const res = await upload(
      { type: 'temp', subfolder: 'comfy_remote', overwrite: 'true' },
      { name: 'cr-j-1.npy', bytes: data },
    )
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ name: 'cr-j-1.npy', subfolder: 'comfy_remote', type: 'temp' })
    const got = await view('filename=cr-j-1.npy&subfolder=comfy_remote&type=temp')
    expect(got.status).toBe(200)
    expect(got.headers.get('content-type')).toBe('application/octet-stream') // .npy: mimetypes knows none
    expect(got.headers.get('content-disposition')).toBe('filename="cr-j-1.npy"')
    expect(same(new Uint8Array(await got.arrayBuffer()), data)).toBe(true)
    await upload({ type: 'temp', subfolder: 'comfy_remote' }, { name: 'clip.mp4', bytes: bytes(10) })
    expect(
      (await view('filename=clip.mp4&subfolder=comfy_remote&type=temp')).headers.get('content-type'),
    ).toBe('video/mp4')
    await upload({ type: 'temp' }, { name: 'page.html', bytes: bytes(10) })
    expect((await view('filename=page.html&type=temp')).headers.get('content-type')).toBe(
      'application/octet-stream',
    )
    const annotated = await view('filename=cr-j-1.npy [temp]&subfolder=comfy_remote')
    expect(annotated.status).toBe(200)
  })

  it('serves byte ranges like aiohttp FileResponse', async () => {
    await upload({ type: 'output' }, { name: 'r.bin', bytes: bytes(100) })
    const part = await view('filename=r.bin', { Range: 'bytes=10-19' })
    expect(part.status).toBe(206)
    expect(part.headers.get('content-range')).toBe('bytes 10-19/100')
    expect(same(new Uint8Array(await part.arrayBuffer()), bytes(100).subarray(10, 20))).toBe(true)
    expect((await view('filename=r.bin', { Range: 'bytes=200-' })).status).toBe(416)
  })

  it('type defaults to input; unknown types fail as in the source (500 upload, 400 view)', async () => {
    const res = await upload({}, { name: 'plain.png', bytes: bytes(5) })
    expect(await res.json()).toEqual({ name: 'plain.png', subfolder: '', type: 'input' })
    expect((await upload({ type: 'models' }, { name: 'x.png', bytes: bytes(5) })).status).toBe(500)
    expect((await view('filename=plain.png&type=models')).status).toBe(400)
    expect((await view('filename=plain.png&type=input')).status).toBe(200)
  })

  it('refuses paths that leave the folder: 400 upload, 400/403 view; 404 for no filename or no file', async () => {
    expect(
      (await upload({ type: 'temp', subfolder: '../x' }, { name: 'a.png', bytes: bytes(5) })).status,
    ).toBe(400)
    expect(
      (await upload({ type: 'temp', subfolder: '/etc' }, { name: 'a.png', bytes: bytes(5) })).status,
    ).toBe(400)
    expect((await upload({ type: 'temp' })).status).toBe(400) // no image field
    expect((await view('filename=../secret&type=temp')).status).toBe(400)
    expect((await view('filename=/etc/passwd')).status).toBe(400)
    expect((await view('filename=a.png&type=temp&subfolder=../../')).status).toBe(403)
    expect((await view('type=temp')).status).toBe(404)
    expect((await view('filename=&type=temp')).status).toBe(400)
    expect((await view('filename=none.png&type=temp')).status).toBe(404)
  })

  it('name collisions: same bytes keep the name, different bytes get "(1)", overwrite only for "true"/"1"', async () => {
    const a = bytes(20, 1)
    const b = bytes(20, 2)
    const name = async (res: Promise<Response>) => ((await (await res).json()) as { name: string }).name
    expect(await name(upload({ type: 'input' }, { name: 'c.png', bytes: a }))).toBe('c.png')
    expect(await name(upload({ type: 'input' }, { name: 'c.png', bytes: a }))).toBe('c.png')
    expect(await name(upload({ type: 'input' }, { name: 'c.png', bytes: b }))).toBe('c (1).png')
    expect(await name(upload({ type: 'input', overwrite: 'TRUE' }, { name: 'c.png', bytes: b }))).toBe(
      'c (1).png',
    )
    expect(await name(upload({ type: 'input', overwrite: '1' }, { name: 'c.png', bytes: b }))).toBe('c.png')
    expect(same(new Uint8Array(await (await view('filename=c.png&type=input')).arrayBuffer()), b)).toBe(true)
  })

  it('answers 413 above --max-upload-size', async () => {
    const res = await upload({ type: 'temp' }, { name: 'big.bin', bytes: bytes(1024 * 1024 + 10) })
    expect(res.status).toBe(413)
    expect(await res.text()).toMatch(/^Maximum request body size 1048576 exceeded/)
  })
})

const PROMPT: ApiPrompt = {
  '1': { class_type: 'ComfyRemoteInput', inputs: { key: 'image' } },
  '2': { class_type: 'ImageInvert', inputs: { image: ['1', 0] } },
  '3': { class_type: 'ComfyRemoteOutput', inputs: { value: ['2', 0], key: 'result' } },
}

async function runPrompt(prompt: ApiPrompt) {
  const res = await fetch(`${fake.url}/prompt`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ prompt }),
  })
  const { prompt_id } = (await res.json()) as { prompt_id: string }
  return waitFor(() => fake.history.get(prompt_id))
}

describe('Remote Input / Output exchange values as files (format A)', () => {
  it('a large input goes as an uploaded file, comes back as a temp file read with /view', async () => {
    const data = bytes(200_000, 7)
    const inputs: Record<string, EncodedValue> = { image: { type: 'IMAGE', encoding: 'npy', data } }
    const { prompt, files } = injectInputsWithFiles(PROMPT, inputs, { files: { prefix: 'cr-job42' } })
    expect(files.map((f) => f.ref)).toEqual([
      { filename: 'cr-job42-1.npy', subfolder: 'comfy_remote', type: 'temp' },
    ])
    expect(String(prompt['1']!.inputs.payload).length).toBeLessThan(200) // no base64 in the prompt
    for (const file of files) {
      const res = await upload(
        { type: file.ref.type, subfolder: file.ref.subfolder, overwrite: 'true' },
        { name: file.ref.filename, bytes: file.source as Uint8Array },
      )
      expect(res.status).toBe(200)
    }
    const entry = await runPrompt(prompt)
    expect(entry.status.status_str).toBe('success')
    const reported = (entry.outputs['3']!.remote_output as Array<{ value: EncodedValue }>)[0]!.value
    const [ref] = fileRefsIn(reported)
    expect(ref).toMatchObject({ subfolder: COMFY_REMOTE_SUBFOLDER, type: 'temp' })
    expect(ref!.filename).toMatch(/^cr-out-[0-9a-f]{32}-1\.npy$/)
    const back = await resolveFileRefs(
      reported,
      async (r) =>
        new Uint8Array(
          await (await view(`filename=${r.filename}&subfolder=${r.subfolder}&type=${r.type}`)).arrayBuffer(),
        ),
    )
    expect(same(back.data as Uint8Array, data)).toBe(true)
    // the worker releases the output file it read (node pack route); only cr-out-* temp files
    const release = (files: unknown) =>
      fetch(`${fake.url}/comfy-remote/files/release`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ files }),
      })
    expect((await release([{ ...ref, filename: '../x' }])).status).toBe(400)
    expect(await (await release([ref])).json()).toEqual({ released: 1 })
    expect(fake.files().some(([, , n]) => n === ref!.filename)).toBe(false)
    // the input file was read once and deleted
    expect(
      fake.files().some(([t, s, n]) => t === 'temp' && s === 'comfy_remote' && n === 'cr-job42-1.npy'),
    ).toBe(false)
  })

  it('small values stay inline both ways', async () => {
    const inputs: Record<string, EncodedValue> = {
      image: { type: 'IMAGE', encoding: 'npy', data: bytes(100) },
    }
    const { prompt, files } = injectInputsWithFiles(PROMPT, inputs, { files: { prefix: 'cr-small' } })
    expect(files).toEqual([])
    const entry = await runPrompt(prompt)
    const reported = (entry.outputs['3']!.remote_output as Array<{ value: EncodedValue }>)[0]!.value
    expect(typeof reported.data).toBe('string')
  })

  it('object values (AUDIO) and file values (VIDEO) are planned leaf by leaf', () => {
    const audio: EncodedValue = {
      type: 'AUDIO',
      encoding: 'object',
      data: {
        waveform: { type: '*', encoding: 'npy', data: bytes(100_000) },
        sample_rate: { type: 'INT', encoding: 'json', data: 44100 },
      },
    }
    const video = {
      type: 'VIDEO',
      encoding: 'file',
      mime: 'video/webm',
      filename: 'x',
      data: Buffer.from(bytes(70_000)).toString('base64'),
    } as unknown as EncodedValue
    const counter = { n: 0 }
    const a = planFileHandoff(audio, { prefix: 'cr-j' }, counter)
    const v = planFileHandoff(video, { prefix: 'cr-j', type: 'input' }, counter)
    expect(a.files.map((f) => f.ref.filename)).toEqual(['cr-j-1.npy'])
    expect(v.files.map((f) => [f.ref.filename, f.ref.type, f.size])).toEqual([
      ['cr-j-2.webm', 'input', 70_000],
    ])
    expect((a.value.data as Record<string, EncodedValue>).sample_rate!.data).toBe(44100)
    expect(v.value).toMatchObject({
      mime: 'video/webm',
      filename: 'x',
      data: { file: { filename: 'cr-j-2.webm' } },
    })
  })

  it('an unsafe or missing file ref fails the Remote Input with a coded error naming the field', async () => {
    const bad = {
      ...PROMPT,
      '1': {
        class_type: 'ComfyRemoteInput',
        inputs: {
          key: 'image',
          payload: JSON.stringify({
            type: 'IMAGE',
            encoding: 'npy',
            data: { file: { filename: '../x.npy', subfolder: 'comfy_remote', type: 'temp' } },
          }),
        },
      },
    }
    const entry = await runPrompt(bad)
    const error = entry.status.messages.find(([t]) => t === 'execution_error')![1]
    expect(String(error.exception_message)).toContain(
      "[BAD_FILE_REF] payload of Remote Input 'image'.data.file.filename",
    )
    const missing = {
      ...PROMPT,
      '1': {
        class_type: 'ComfyRemoteInput',
        inputs: {
          key: 'image',
          payload: JSON.stringify({
            type: 'IMAGE',
            encoding: 'npy',
            data: { file: { filename: 'cr-gone.npy', subfolder: 'comfy_remote', type: 'temp' } },
          }),
        },
      },
    }
    const entry2 = await runPrompt(missing)
    const error2 = entry2.status.messages.find(([t]) => t === 'execution_error')![1]
    expect(String(error2.exception_message)).toContain('[FILE_REF_MISSING]')
  })
})
