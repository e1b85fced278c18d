import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { FakeComfyUI, RecordedExchange } from '../src/testing/index.js'
import { createFakeComfyUI, readFixtureJson, readWsTranscript, recordedPrompt } from '../src/testing/index.js'
import { decodeBinaryFrame } from '../src/ws-frames.js'
import { waitFor } from './helpers.js'
import { WsRecorder } from './ws-client.js'

let fake: FakeComfyUI
beforeAll(async () => {
  fake = await createFakeComfyUI({ nodeDelayMs: 150, progressSteps: 3, stepDelayMs: 5, progressText: true })
})
afterAll(async () => {
  await fake.close()
})

const post = (path: string, body?: unknown) =>
  fetch(`${fake.url}${path}`, {
    method: 'POST',
    ...(body === undefined
      ? {}
      : { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) }),
  })
const json = async <T>(path: string) => (await (await fetch(`${fake.url}${path}`)).json()) as T

describe('interrupt and queue control', () => {
  it('interrupt: the next node starts, then execution_interrupted, as recorded', async () => {
    const ws = await WsRecorder.open(fake.url, 'client-int')
    const prompt = recordedPrompt('interrupt/prompt.json')
    const { prompt_id } = (await (await post('/prompt', { prompt, client_id: 'client-int' })).json()) as {
      prompt_id: string
    }
    const second = (await (await post('/prompt', { prompt, client_id: 'other' })).json()) as {
      prompt_id: string
    }
    const queue = await json<{ queue_running: unknown[][]; queue_pending: unknown[][] }>('/queue')
    expect(queue.queue_running.map((q) => q[1])).toEqual([prompt_id])
    expect(queue.queue_pending.map((q) => q[1])).toEqual([second.prompt_id])
    expect(queue.queue_running[0]).toHaveLength(5)

    const del = await post('/queue', { delete: [second.prompt_id] })
    const recordedDel = readFixtureJson<RecordedExchange>('interrupt/queue-delete-response.json').response
    expect(del.status).toBe(recordedDel.status)
    expect(del.headers.get('content-type')).toBe('application/octet-stream')
    expect(await del.text()).toBe('')
    expect((await json<{ queue_pending: unknown[] }>('/queue')).queue_pending).toEqual([])

    await waitFor(() =>
      ws.messages.some((m) => 'type' in m && m.type === 'executing' && m.data.node === '10')
        ? true
        : undefined,
    )
    const res = await post('/interrupt', { prompt_id })
    expect(res.status).toBe(200)
    expect(await res.text()).toBe('')
    await ws.untilDone(prompt_id)
    ws.close()
    const types = ws
      .types()
      .filter((t) => t !== 'binary' && t !== 'progress' && t !== 'progress_state' && t !== 'status')
    expect(types.slice(-3)).toEqual(['executing', 'execution_interrupted', 'executing'])
    const interrupted = ws.messages.find((m) => 'type' in m && m.type === 'execution_interrupted') as {
      data: Record<string, unknown>
    }
    const recorded = readWsTranscript('interrupt/ws.jsonl').find(
      (l) => 'type' in l && l.type === 'execution_interrupted',
    )
    expect(Object.keys(interrupted.data)).toEqual(Object.keys((recorded as { data: object }).data))
    expect(interrupted.data.executed).toContain('1')
    const entry = (await json<Record<string, Record<string, unknown>>>(`/history/${prompt_id}`))[prompt_id]!
    expect(entry.status).toMatchObject({ status_str: 'error', completed: false })
    expect(await json(`/history/${second.prompt_id}`)).toEqual({})

    expect((await post('/history', { delete: [prompt_id] })).status).toBe(200)
    expect(await json(`/history/${prompt_id}`)).toEqual({})
  })

  it('POST /interrupt with no body while idle answers 200 empty', async () => {
    const res = await post('/interrupt')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('application/octet-stream')
  })

  it('sends progress messages and type-3 text frames per step', async () => {
    const ws = await WsRecorder.open(fake.url, 'client-progress')
    const prompt = {
      1: { class_type: 'EmptyImage', inputs: { width: 8, height: 8, batch_size: 1, color: 0 } },
      2: { class_type: 'PreviewImage', inputs: { images: ['1', 0] } },
    }
    const { prompt_id } = (await (
      await post('/prompt', { prompt, client_id: 'client-progress' })
    ).json()) as {
      prompt_id: string
    }
    await ws.untilDone(prompt_id)
    ws.close()
    const progress = ws.messages.flatMap((m) => ('type' in m && m.type === 'progress' ? [m.data] : []))
    expect(progress.filter((p) => p.node === '1').map((p) => [p.value, p.max])).toEqual([
      [1, 3],
      [2, 3],
      [3, 3],
    ])
    const frames = ws.messages.flatMap((m) => ('binary' in m ? [decodeBinaryFrame(m.binary)] : []))
    expect(frames[0]).toEqual({ eventType: 3, nodeId: '1', text: 'step 1/3' })
  })

  it('records every request for assertions', () => {
    expect(fake.requests.some((r) => r.method === 'POST' && r.path === '/interrupt')).toBe(true)
    expect(fake.requests.find((r) => r.path === '/ws')?.query.clientId).toBe('client-int')
  })
})

describe('hooks', () => {
  it('failNode makes a node fail with execution_error', async () => {
    const f = await createFakeComfyUI({ failNode: (id) => (id === '2' ? 'CUDA out of memory' : undefined) })
    try {
      const prompt = {
        1: { class_type: 'ComfyRemoteInput', inputs: { key: 'a', fallback: 'x' } },
        2: { class_type: 'ComfyRemoteOutput', inputs: { value: ['1', 0], key: 'out' } },
      }
      const res = await fetch(`${f.url}/prompt`, { method: 'POST', body: JSON.stringify({ prompt }) })
      const { prompt_id } = (await res.json()) as { prompt_id: string }
      const entry = await waitFor(() => f.history.get(prompt_id))
      expect(entry.status.status_str).toBe('error')
      const error = entry.status.messages.find(([t]) => t === 'execution_error')![1]
      expect(error).toMatchObject({ node_id: '2', exception_message: 'CUDA out of memory', executed: ['1'] })
    } finally {
      await f.close()
    }
  })

  it('dropWebSockets closes sockets while HTTP keeps answering', async () => {
    const ws = await WsRecorder.open(fake.url, 'client-drop')
    const closed = new Promise<number>((resolve) => ws.socket.once('close', (code) => resolve(code)))
    fake.dropWebSockets()
    expect(typeof (await closed)).toBe('number')
    expect((await fetch(`${fake.url}/queue`)).status).toBe(200)
  })

  it('onRequest can answer instead, and goAway refuses later connections', async () => {
    const f = await createFakeComfyUI({
      onRequest: (r) => (r.path === '/system_stats' ? { status: 503, body: { error: 'busy' } } : undefined),
    })
    const res = await fetch(`${f.url}/system_stats`)
    expect(res.status).toBe(503)
    await f.goAway()
    await expect(fetch(`${f.url}/queue`)).rejects.toThrow()
  })
})

describe('history listing and options', () => {
  it('GET /history?max_items=1 returns only the newest entry', async () => {
    const body = await json<Record<string, unknown>>('/history?max_items=1')
    expect(Object.keys(body)).toHaveLength(1)
    const all = await json<Record<string, unknown>>('/history')
    expect(Object.keys(all).at(-1)).toBe(Object.keys(body)[0])
  })

  it('refuses to bind a non-loopback host', async () => {
    await expect(createFakeComfyUI({ host: '0.0.0.0' })).rejects.toMatchObject({ code: 'INVALID_OPTIONS' })
  })
})
