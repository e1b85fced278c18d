import { readdirSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { describeWorkflow } from '../src/describe.js'
import { REMOTE_NODES_OBJECT_INFO } from '../src/remote-nodes.js'
import type { FakeComfyUI, RecordedExchange } from '../src/testing/index.js'
import {
  createFakeComfyUI,
  fixturesDir,
  readFixtureBytes,
  readFixtureJson,
  readFixtureText,
  readWsTranscript,
  recordedPrompt,
} from '../src/testing/index.js'
import { waitFor } from './helpers.js'
import { WsRecorder } from './ws-client.js'

let fake: FakeComfyUI
beforeAll(async () => {
  fake = await createFakeComfyUI()
})
afterAll(async () => {
  await fake.close()
})

const post = (path: string, body: unknown) =>
  fetch(`${fake.url}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  })

const recordedTypes = (file: string) =>
  readWsTranscript(file)
    .filter((l) => !('binary' in l))
    .map((l) => ('type' in l ? l.type : ''))

describe('GET answers equal the recorded bodies byte for byte', () => {
  it.each([
    ['/system_stats', 'misc/system_stats.json'],
    ['/queue', 'misc/queue.json'],
    ['/api/queue', 'misc/api-queue.json'],
    ['/object_info/EmptyImage', 'misc/object_info-EmptyImage.json'],
    ['/object_info/NoSuchNode', 'misc/object_info-unknown-node.json'],
    ['/features', 'misc/features.json'],
    ['/embeddings', 'misc/embeddings.json'],
    ['/prompt', 'misc/prompt-get.json'],
    ['/history/00000000-0000-0000-0000-000000000000', 'interrupt/history-of-deleted-pending.json'],
  ])('%s', async (path, file) => {
    const res = await fetch(`${fake.url}${path}`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8')
    expect(res.headers.get('server')).toBe('Python/3.11 aiohttp/3.8.4')
    expect(await res.text()).toBe(readFixtureText(file))
  })

  it('/object_info is the recorded one plus the comfy-remote nodes', async () => {
    const body = (await (await fetch(`${fake.url}/object_info`)).json()) as Record<string, unknown>
    const recorded = readFixtureJson<Record<string, unknown>>('object_info.json')
    expect(Object.keys(body)).toHaveLength(
      Object.keys(recorded).length + Object.keys(REMOTE_NODES_OBJECT_INFO).length,
    )
    expect(body.ImageBlur).toEqual(recorded.ImageBlur)
    expect(body.ComfyRemoteInput).toMatchObject({
      input_order: { required: ['key'], optional: ['fallback', 'payload'] },
    })
  })

  it('/view of a missing file is 404 with an empty octet-stream body', async () => {
    const res = await fetch(`${fake.url}/view?filename=does-not-exist.png&subfolder=&type=output`)
    expect(res.status).toBe(404)
    expect(res.headers.get('content-type')).toBe('application/octet-stream')
    expect(await res.text()).toBe('')
  })
})

describe('POST /prompt validation answers equal the recordings', () => {
  const files = readdirSync(`${fixturesDir()}validation-error`).filter(
    (f) => f.endsWith('.json') && !f.startsWith('partial-valid'),
  )
  it.each(files)('%s', async (file) => {
    const exchange = readFixtureJson<RecordedExchange>(`validation-error/${file}`)
    const res = await post('/prompt', exchange.request.body)
    expect(res.status).toBe(exchange.response.status)
    expect(await res.json()).toEqual(exchange.response.body)
  })

  it('partial-valid: 200 with the node_errors, and only the valid output runs', async () => {
    const exchange = readFixtureJson<RecordedExchange>('validation-error/partial-valid.json')
    const res = await post('/prompt', exchange.request.body)
    const body = (await res.json()) as {
      prompt_id: string
      node_errors: Record<string, { dependent_outputs: string[] }>
    }
    const recorded = exchange.response.body as typeof body
    expect(res.status).toBe(200)
    for (const e of [body, recorded]) for (const n of Object.values(e.node_errors)) n.dependent_outputs.sort()
    expect(body.node_errors).toEqual(recorded.node_errors)
    const history = await waitFor(async () => {
      const h = (await (await fetch(`${fake.url}/history/${body.prompt_id}`)).json()) as Record<
        string,
        { prompt: unknown[] }
      >
      return h[body.prompt_id]
    })
    expect(history.prompt[4]).toEqual(['5'])
  })

  it('every POST /prompt takes a number, rejected ones too', async () => {
    const a = (await (await post('/prompt', { prompt: recordedPrompt('success/prompt.json') })).json()) as {
      number: number
    }
    await post('/prompt', {})
    const b = (await (await post('/prompt', { prompt: recordedPrompt('success/prompt.json') })).json()) as {
      number: number
    }
    expect(b.number).toBe(a.number + 2)
  })
})

describe('recorded runs replayed', () => {
  it('success: same ws message sequence, history shape and outputs', async () => {
    const ws = await WsRecorder.open(fake.url, 'client-success')
    const prompt = recordedPrompt('success/prompt.json')
    const res = await post('/prompt', { prompt, client_id: 'client-success' })
    const { prompt_id } = (await res.json()) as { prompt_id: string }
    await ws.untilDone(prompt_id)
    ws.close()
    expect(ws.types()).toEqual(recordedTypes('success/ws.jsonl'))
    const executing = ws.messages.flatMap((m) => ('type' in m && m.type === 'executing' ? [m.data.node] : []))
    expect(executing).toEqual(['1', '2', '5', '3', '4', '6', '7', null])
    const body = (await (await fetch(`${fake.url}/history/${prompt_id}`)).json()) as Record<
      string,
      Record<string, unknown>
    >
    const recorded = Object.values(
      readFixtureJson<Record<string, Record<string, unknown>>>('success/history.json'),
    )[0]!
    const entry = body[prompt_id]!
    expect(entry.outputs).toEqual(recorded.outputs)
    expect(entry.meta).toEqual(recorded.meta)
    expect((entry.prompt as unknown[])[2]).toEqual(prompt)
    expect(Object.keys(entry)).toEqual(Object.keys(recorded))
    const view = await fetch(`${fake.url}/view?filename=wire_00001_.png&subfolder=&type=output`)
    expect(view.headers.get('content-type')).toBe('image/png')
    expect(new Uint8Array(await view.arrayBuffer())).toEqual(
      new Uint8Array(readFixtureBytes('success/view-output.png')),
    )
  })

  it('execution error: execution_error on the ws, error status in history', async () => {
    const ws = await WsRecorder.open(fake.url, 'client-error')
    const res = await post('/prompt', {
      prompt: recordedPrompt('execution-error/prompt.json'),
      client_id: 'client-error',
    })
    const { prompt_id } = (await res.json()) as { prompt_id: string }
    await ws.untilDone(prompt_id)
    ws.close()
    expect(ws.types()).toEqual(recordedTypes('execution-error/ws.jsonl'))
    const recordedError = readWsTranscript('execution-error/ws.jsonl').find(
      (l) => 'type' in l && l.type === 'execution_error',
    )
    const error = ws.messages.find((m) => 'type' in m && m.type === 'execution_error') as {
      data: Record<string, unknown>
    }
    const expected = (recordedError as { data: Record<string, unknown> }).data
    expect(Object.keys(error.data).sort()).toEqual(Object.keys(expected).sort())
    expect(error.data.exception_message).toBe(expected.exception_message)
    expect(error.data.current_inputs).toEqual(expected.current_inputs)
    const entry = (
      (await (await fetch(`${fake.url}/history/${prompt_id}`)).json()) as Record<
        string,
        Record<string, unknown>
      >
    )[prompt_id]!
    expect(entry.status).toMatchObject({ status_str: 'error', completed: false })
    expect(entry.outputs).toEqual({})
  })

  it('recorded prompts have no Remote nodes', () => {
    expect(describeWorkflow(recordedPrompt('success/prompt.json'))).toEqual({ inputs: [], outputs: [] })
  })
})

describe('upload', () => {
  const multipart = () => readFixtureBytes('upload/upload-request-body.multipart')
  const contentType = 'multipart/form-data; boundary=----wirefixtureboundary7MA4YWxkTrZu0gW'
  const upload = (body: Uint8Array | FormData) =>
    fetch(`${fake.url}/upload/image`, {
      method: 'POST',
      body: body as BodyInit,
      headers: body instanceof FormData ? {} : { 'Content-Type': contentType },
    })

  it('names files as recorded: same bytes keep the name, other bytes get " (1)", overwrite keeps it', async () => {
    const first = await upload(multipart())
    expect(await first.json()).toEqual(
      readFixtureJson<RecordedExchange>('upload/upload-response.json').response.body,
    )
    expect(await (await upload(multipart())).json()).toEqual(
      readFixtureJson<RecordedExchange>('upload/upload-duplicate-response.json').response.body,
    )
    const other = new FormData()
    other.set('image', new Blob([new Uint8Array([1, 2, 3])], { type: 'image/png' }), 'wire-upload.png')
    expect(await (await upload(other)).json()).toEqual(
      readFixtureJson<RecordedExchange>('upload/upload-renamed-response.json').response.body,
    )
    const sub = new FormData()
    sub.set('image', new Blob([readFixtureBytes('upload/upload-input.png') as BlobPart]), 'wire-upload.png')
    sub.set('type', 'input')
    sub.set('subfolder', 'wire-sub')
    expect(await (await upload(sub)).json()).toEqual(
      readFixtureJson<RecordedExchange>('upload/upload-subfolder-response.json').response.body,
    )
  })

  it('runs the recorded LoadImage prompt with the uploaded file', async () => {
    await upload(multipart())
    const res = await post('/prompt', { prompt: recordedPrompt('upload/prompt.json') })
    const { prompt_id } = (await res.json()) as { prompt_id: string }
    const entry = await waitFor(async () => {
      const h = (await (await fetch(`${fake.url}/history/${prompt_id}`)).json()) as Record<
        string,
        { outputs: unknown }
      >
      return h[prompt_id]
    })
    const recorded = Object.values(
      readFixtureJson<Record<string, { outputs: unknown }>>('upload/history.json'),
    )[0]!
    expect(entry.outputs).toEqual(recorded.outputs)
  })
})

describe('SaveImageWebsocket previews (ws-preview recordings)', () => {
  const framesOf = (ws: WsRecorder) => ws.messages.flatMap((m) => ('binary' in m ? [m.binary] : []))

  it.each([
    ['legacy', undefined],
    ['feature-flags', { type: 'feature_flags', data: { supports_preview_metadata: true } }],
  ])('%s client: same message sequence and frame bytes as recorded', async (name, first) => {
    const clientId = `client-${name}`
    const ws = await WsRecorder.open(fake.url, clientId, first)
    if (first) await waitFor(() => (ws.types().includes('feature_flags') ? true : undefined))
    const res = await post('/prompt', {
      prompt: recordedPrompt('ws-preview/prompt.json'),
      client_id: clientId,
    })
    const { prompt_id } = (await res.json()) as { prompt_id: string }
    await ws.untilDone(prompt_id)
    ws.close()
    const recorded = readWsTranscript(`ws-preview/${name}-ws.jsonl`).map((l) =>
      'binary' in l ? 'binary' : l.type,
    )
    // The recorded feature-flags run had node 1 cached (same EmptyImage as the legacy run before it), so
    // it lacks node 1's progress_state/executing/progress_state; the fake does not cache.
    const ours = ws.types().filter((_t, i) => name !== 'feature-flags' || i < 6 || i > 8)
    expect(ours).toEqual(recorded)
    const frames = framesOf(ws)
    expect(frames).toHaveLength(2)
    const recordedFrame = readFixtureBytes(`ws-preview/${name}-frame-0.bin`)
    const start = readWsTranscript(`ws-preview/${name}-ws.jsonl`).find(
      (l) => 'type' in l && l.type === 'execution_start',
    )
    const recordedId = String((start as unknown as { data: { prompt_id: string } }).data.prompt_id)
    const expected = Buffer.from(recordedFrame).toString('latin1').replace(recordedId, prompt_id)
    expect(frames[0]!.toString('latin1')).toBe(expected)
  })
})

describe('caching (cache: true)', () => {
  it('an identical prompt runs nothing and replays executed, as recorded in cached/', async () => {
    const cachedFake = await createFakeComfyUI({ cache: true })
    try {
      const submit = async (clientId: string, prompt: unknown) => {
        const ws = await WsRecorder.open(cachedFake.url, clientId)
        const res = await fetch(`${cachedFake.url}/prompt`, {
          method: 'POST',
          body: JSON.stringify({ prompt, client_id: clientId }),
        })
        const { prompt_id } = (await res.json()) as { prompt_id: string }
        await ws.untilDone(prompt_id)
        ws.close()
        return { ws, prompt_id }
      }
      const prompt = recordedPrompt('success/prompt.json')
      await submit('first', prompt)
      const { ws, prompt_id } = await submit('second', prompt)
      expect(ws.types()).toEqual(recordedTypes('cached/ws.jsonl'))
      expect(ws.data('execution_cached').nodes).toEqual(['1', '2', '3', '4', '5', '6', '7'])
      const recorded = Object.values(
        readFixtureJson<Record<string, { outputs: unknown }>>('cached/history.json'),
      )[0]!
      expect(cachedFake.history.get(prompt_id)?.outputs).toEqual(recorded.outputs)

      const changed = structuredClone(prompt)
      changed['3']!.inputs.blur_radius = 3
      const third = await submit('third', changed)
      expect(third.ws.data('execution_cached').nodes).toEqual(['1', '2', '5'])
    } finally {
      await cachedFake.close()
    }
  })
})
