import { describe, expect, it } from 'vitest'
import { isProtocolError, type JobEnvelope, parseEnvelope, toWireEnvelope } from './index.js'

const REQ = 'https://worker.example/api/run?x=1'

describe('parseEnvelope: status', () => {
  it.each([
    ['status field', { status: 'Queued' }, 'pending'],
    ['state when status is absent', { state: 'processing' }, 'running'],
    ['status wins over state', { status: 'done', state: 'running', result: { value: 1 } }, 'completed'],
    ['null status falls back to state', { status: null, state: 'failed' }, 'failed'],
    ['cancelled synonym', { status: 'aborted' }, 'cancelled'],
    ['empty object is running', {}, 'running'],
    ['empty body is running', '', 'running'],
    ['undefined body is running', undefined, 'running'],
    ['whitespace body is running', '  \n', 'running'],
    ['no status + result object -> completed', { result: { value: 1 } }, 'completed'],
    ['no status + output object -> completed', { output: { data: 'x' } }, 'completed'],
    ['no status + data object -> completed', { data: { a: 1 } }, 'completed'],
    ['no status + top-level data string -> completed', { data: 'abc', encoding: 'npy' }, 'completed'],
    ['no status + top-level data null -> completed', { data: null }, 'completed'],
    ['unknown status + result -> completed', { status: 'finished', result: { value: 1 } }, 'completed'],
    ['unknown status without result -> running', { status: 'warming-up' }, 'running'],
    ['result that is not an object is not a result', { result: 'x' }, 'running'],
    ['output that is an array is not a result', { output: [1] }, 'running'],
    ['JSON text body', '{"status":"SUCCESS","result":{"value":2}}', 'completed'],
    ['bytes body', new TextEncoder().encode('{"state":"in_progress"}'), 'running'],
  ])('%s', (_name, body, status) => expect(parseEnvelope(body).status).toBe(status))

  it.each([
    ['text that is not JSON', 'Internal Server Error'],
    ['JSON array', '[1,2]'],
    ['JSON null', 'null'],
    ['JSON number', '5'],
    ['array', [{ status: 'done' }]],
    ['null', null],
    ['number', 42],
    ['boolean', false],
  ])('rejects %s with BAD_ENVELOPE', (_name, body) => {
    try {
      parseEnvelope(body)
      expect.unreachable()
    } catch (error) {
      expect(isProtocolError(error)).toBe(true)
      expect((error as { code: string }).code).toBe('BAD_ENVELOPE')
    }
  })
})

describe('parseEnvelope: result', () => {
  it.each([
    [
      'result wins over output and data',
      { status: 'done', result: { value: 1 }, output: { value: 2 }, data: { value: 3 } },
      1,
    ],
    [
      'output when result is not an object',
      { status: 'done', result: 'r', output: { value: 2 }, data: { value: 3 } },
      2,
    ],
    ['data object when result and output are absent', { status: 'done', data: { value: 3 } }, 3],
    ['whole body when none is an object', { status: 'done', value: 4 }, 4],
  ])('%s', (_name, body, expected) => expect(parseEnvelope(body).result?.data).toBe(expected))

  it.each([
    ['value without data is identity', { value: [1, 2] }, { type: '*', encoding: 'identity', data: [1, 2] }],
    [
      'data wins over value',
      { value: 1, data: 'QUJD', encoding: 'npy' },
      { type: '*', encoding: 'npy', data: 'QUJD' },
    ],
    [
      'type from type',
      { type: 'IMAGE', comfy_type: 'MASK', value: 1 },
      { type: 'IMAGE', encoding: 'identity', data: 1 },
    ],
    [
      'type from comfy_type',
      { comfy_type: 'MASK', value: 1 },
      { type: 'MASK', encoding: 'identity', data: 1 },
    ],
    [
      'encoding defaults to base64+pickle',
      { data: 'gASV' },
      { type: '*', encoding: 'base64+pickle', data: 'gASV' },
    ],
    ['encoding is case-insensitive', { data: 1, encoding: 'JSON' }, { type: '*', encoding: 'json', data: 1 }],
    [
      'extra keys are kept',
      { data: 1, encoding: 'json', batch: 2 },
      { type: '*', encoding: 'json', data: 1, batch: 2 },
    ],
  ])('%s', (_name, result, expected) =>
    expect(parseEnvelope({ status: 'completed', result }).result).toEqual(expected),
  )

  it('reads a whole-body result without copying envelope keys into it', () => {
    const env = parseEnvelope({ status: 'done', job_id: 'j', data: 'QUJD', encoding: 'npy', type: 'IMAGE' })
    expect(env.result).toEqual({ type: 'IMAGE', encoding: 'npy', data: 'QUJD' })
  })

  it('does not read a result before the job is done', () => {
    expect(parseEnvelope({ status: 'running', result: { value: 1 } }).result).toBeUndefined()
  })

  it('a completed envelope with outputs only has no result', () => {
    const env = parseEnvelope({
      status: 'completed',
      outputs: { a: { type: 'INT', encoding: 'json', data: 1 } },
    })
    expect(env.result).toBeUndefined()
    expect(env.outputs).toEqual({ a: { type: 'INT', encoding: 'json', data: 1 } })
  })

  it('reads the response of the original generated app', () => {
    const env = parseEnvelope({
      status: 'completed',
      progress: { value: 1, max: 1 },
      result: { type: 'dict', encoding: 'base64+pickle', data: 'gASVAA==' },
      outputs: { result: { type: 'IMAGE', encoding: 'base64+pickle', data: 'gASVAA==' } },
    })
    expect(env).toEqual({
      status: 'completed',
      progress: { value: 1, max: 1 },
      result: { type: 'dict', encoding: 'base64+pickle', data: 'gASVAA==' },
      outputs: { result: { type: 'IMAGE', encoding: 'base64+pickle', data: 'gASVAA==' } },
    })
  })
})

describe('parseEnvelope: progress and text', () => {
  it.each([
    ['object', { progress: { value: 3, total: 6 } }, { value: 3, max: 6 }],
    ['percent', { progress: { percent: 30 } }, { value: 30, max: 100 }],
    ['bare fraction', { progress: 0.2 }, { value: 0.2, max: 1 }],
    ['junk', { progress: 'soon' }, undefined],
  ])('progress %s', (_name, body, expected) => expect(parseEnvelope(body).progress).toEqual(expected))

  it.each([
    ['message first', { message: 'm', status_text: 's', detail: 'd', description: 'x' }, 'm'],
    ['status_text second', { message: '', status_text: 's', detail: 'd' }, 's'],
    ['detail third', { detail: 'd', description: 'x' }, 'd'],
    ['description fourth', { description: 'x', progress: { message: 'p' } }, 'x'],
    ['progress.message', { message: '  ', progress: { message: 'pm', detail: 'pd' } }, 'pm'],
    ['progress.detail', { progress: { detail: 'pd', description: 'px' } }, 'pd'],
    ['progress.description', { progress: { description: 'px', stage: 'ps' } }, 'px'],
    ['progress.stage', { progress: { stage: 'ps' } }, 'ps'],
    ['non-strings are skipped', { message: 5, detail: 'd' }, 'd'],
    ['nothing', { progress: 0.5 }, undefined],
  ])('%s', (_name, body, expected) => expect(parseEnvelope(body).message).toBe(expected))
})

describe('parseEnvelope: poll url and delay', () => {
  it.each([
    [
      'poll_url first',
      { poll_url: '/a', status_url: '/b', next: '/c', poll: '/d' },
      'https://worker.example/a',
    ],
    ['status_url second', { poll_url: '', status_url: '/b', next: '/c' }, 'https://worker.example/b'],
    ['next third', { next: '/c', poll: '/d' }, 'https://worker.example/c'],
    ['poll fourth', { poll: '/d' }, 'https://worker.example/d'],
    ['relative path', { poll_url: 'jobs/1' }, 'https://worker.example/api/jobs/1'],
    ['dot-dot path', { poll_url: '../jobs/1' }, 'https://worker.example/jobs/1'],
    ['absolute url unchanged', { poll_url: 'https://other.example/j/1' }, 'https://other.example/j/1'],
    ['non-string skipped', { poll_url: 7, status_url: '/b' }, 'https://worker.example/b'],
    ['none', { status: 'running' }, undefined],
  ])('%s', (_name, body, expected) => expect(parseEnvelope(body, REQ).pollUrl).toBe(expected))

  it('keeps a relative poll url when no request url is given', () => {
    expect(parseEnvelope({ poll_url: '/jobs/1' }).pollUrl).toBe('/jobs/1')
  })

  it('returns pending without a poll url as is (the caller decides; the original raised an error)', () => {
    expect(parseEnvelope({ status: 'pending' }, REQ)).toEqual({ status: 'pending' })
  })

  it.each([
    ['retry_in first', { retry_in: 2, retry_after: 3, poll_interval: 4, interval: 5 }, 2],
    ['retry_after second', { retry_after: 3, poll_interval: 4 }, 3],
    ['poll_interval third', { poll_interval: 4, interval: 5 }, 4],
    ['interval fourth', { interval: 5 }, 5],
    ['non-numbers skipped', { retry_in: 'soon', retry_after: null, interval: 1.5 }, 1.5],
    ['numeric string', { retry_after: '2.5' }, 2.5],
    ['floor 0.1', { retry_in: 0.01 }, 0.1],
    ['zero floors to 0.1', { retry_in: 0 }, 0.1],
    ['negative floors to 0.1', { retry_after: -3 }, 0.1],
    ['none', {}, undefined],
  ])('delay: %s', (_name, body, expected) => expect(parseEnvelope(body).retryAfter).toBe(expected))
})

describe('parseEnvelope: errors', () => {
  it.each([
    [
      'error string first',
      { status: 'failed', error: 'e', detail: 'd', message: 'm', status_text: 's' },
      'e',
    ],
    [
      'v1 error object',
      { status: 'failed', error: { code: 'COMFYUI_EXECUTION', message: 'oom' }, detail: 'd' },
      'oom',
    ],
    ['detail second', { status: 'error', error: '', detail: 'd', message: 'm' }, 'd'],
    ['message third', { status: 'failed', message: 'm', status_text: 's' }, 'm'],
    ['status_text fourth', { status: 'failed', status_text: 's', description: 'x' }, 's'],
    ['then progress text', { status: 'failed', description: 'x' }, 'x'],
    ['then progress.stage', { status: 'failed', progress: { stage: 'decode' } }, 'decode'],
  ])('%s', (_name, body, message) => expect(parseEnvelope(body).error?.message).toBe(message))

  it.each([
    ['failed', { status: 'failed' }, 'JOB_FAILED'],
    ['error', { state: 'ERROR' }, 'JOB_FAILED'],
    ['cancelled', { status: 'cancelled' }, 'CANCELLED'],
    ['aborted', { status: 'aborted' }, 'CANCELLED'],
  ])('%s always carries a generic error message and a code', (_name, body, code) => {
    const env = parseEnvelope(body)
    expect(env.error?.code).toBe(code)
    expect(env.error?.message.length).toBeGreaterThan(10)
  })

  it('keeps the v1 error code and details', () => {
    const env = parseEnvelope({
      status: 'failed',
      error: { code: 'TIMEOUT', message: 't', details: { s: 3 } },
    })
    expect(env.error).toEqual({ code: 'TIMEOUT', message: 't', details: { s: 3 } })
  })

  it('running envelopes carry no error', () => {
    expect(parseEnvelope({ status: 'running', error: 'transient' }).error).toBeUndefined()
  })
})

describe('toWireEnvelope', () => {
  it('converts to snake_case and back', () => {
    const env: JobEnvelope = {
      status: 'completed',
      jobId: 'abc',
      pollUrl: 'https://w.example/jobs/abc',
      progress: { value: 10, max: 10 },
      message: 'done',
      retryAfter: 0.5,
      queuePosition: 0,
      result: { type: 'INT', encoding: 'json', data: 1 },
      outputs: { n: { type: 'INT', encoding: 'json', data: 1 } },
    }
    const wire = toWireEnvelope(env)
    expect(wire).toMatchObject({ job_id: 'abc', poll_url: env.pollUrl, queue_position: 0, retry_after: 0.5 })
    expect(parseEnvelope(JSON.parse(JSON.stringify(wire)))).toEqual(env)
  })

  it('keeps failed envelopes readable', () => {
    const env: JobEnvelope = {
      status: 'failed',
      jobId: '1',
      error: { code: 'COMFYUI_VALIDATION', message: 'bad' },
    }
    expect(parseEnvelope(toWireEnvelope(env))).toEqual(env)
  })
})
