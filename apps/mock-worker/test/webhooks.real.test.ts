// Webhooks through real ports: the worker posts signed events to a local receiver, verified by our
// verifyWebhook and by the independent `standardwebhooks` package.

import { verifyWebhook } from '@comfy-remote/remote-client'
import type { FastifyInstance } from 'fastify'
import { Webhook } from 'standardwebhooks'
import { afterEach, describe, expect, it } from 'vitest'
import { startWorker } from '../src/app.js'
import type { WorkerOptions } from '../src/options.js'
import { echoPrompt, imageValue, waitUntil } from './helpers.js'
import { newSecret, type Received, Receiver } from './webhook-receiver.js'

let app: FastifyInstance | undefined
let receivers: Receiver[] = []

afterEach(async () => {
  await app?.close()
  app = undefined
  for (const r of receivers) await r.close()
  receivers = []
})

async function receiver(): Promise<Receiver> {
  const r = await new Receiver().start()
  receivers.push(r)
  return r
}

async function worker(options: Partial<WorkerOptions>): Promise<string> {
  const started = await startWorker({
    workflow: echoPrompt(),
    port: 0,
    steps: 2,
    stepMs: 5,
    docs: false,
    allowLoopbackWebhooks: true,
    webhookBackoffMs: 20,
    webhookTimeoutMs: 2_000,
    ...options,
  })
  app = started.app
  return started.url
}

async function run(url: string, body: Record<string, unknown>, wait = 10): Promise<Response> {
  return fetch(`${url}/run?wait=${wait}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ inputs: { image: imageValue() }, ...body }),
  })
}

async function job(url: string, id: string): Promise<Record<string, unknown>> {
  return (await (await fetch(`${url}/jobs/${id}`)).json()) as Record<string, unknown>
}

function headersOf(r: Received): Record<string, string> {
  return {
    'webhook-id': String(r.headers['webhook-id']),
    'webhook-timestamp': String(r.headers['webhook-timestamp']),
    'webhook-signature': String(r.headers['webhook-signature']),
  }
}

describe('webhooks', () => {
  it('delivers the finished job once, signed so that both verifiers accept it', async () => {
    const secret = newSecret()
    const hook = await receiver()
    const url = await worker({ webhookSecret: secret })
    const res = await run(url, { webhook: { url: hook.url } })
    const env = (await res.json()) as { job_id: string; status: string }
    expect(env.status).toBe('completed')
    await waitUntil(() => hook.received.length === 1)
    const [got] = hook.received as [Received]
    expect(got.headers['content-type']).toBe('application/json')
    const ours = verifyWebhook(secret, got.headers as Record<string, string>, got.body)
    expect(ours.event).toBe('completed')
    expect(ours.envelope.jobId).toBe(env.job_id)
    expect(ours.envelope.status).toBe('completed')
    expect(ours.envelope.timings?.run_seconds).toBeGreaterThanOrEqual(0)
    const theirs = new Webhook(secret).verify(got.body, headersOf(got)) as Record<string, unknown>
    expect(theirs.job_id).toBe(env.job_id)
    expect(() => new Webhook(newSecret()).verify(got.body, headersOf(got))).toThrow()
    expect(() =>
      new Webhook(secret).verify(got.body.replace('completed', 'cancelled'), headersOf(got)),
    ).toThrow()
    await waitUntil(
      async () => ((await job(url, env.job_id)).webhook as { delivered?: boolean })?.delivered === true,
    )
    expect((await job(url, env.job_id)).webhook).toEqual({ delivered: true, attempts: 1, last_error: null })
    await new Promise((r) => setTimeout(r, 100))
    expect(hook.received).toHaveLength(1)
  })

  it('retries after a 500 and a timeout with the same webhook-id, each attempt verifiable', async () => {
    const secret = newSecret()
    const hook = await receiver()
    hook.behaviours.push({ status: 500 }, 'hang')
    const url = await worker({ webhookSecret: secret, webhookTimeoutMs: 300 })
    const env = (await (await run(url, { webhook: { url: hook.url } })).json()) as { job_id: string }
    await waitUntil(() => hook.received.length === 3)
    const ids = new Set(hook.received.map((r) => r.headers['webhook-id']))
    expect(ids.size).toBe(1)
    for (const got of hook.received) {
      expect(verifyWebhook(secret, got.headers as Record<string, string>, got.body).id).toBe([...ids][0])
      new Webhook(secret).verify(got.body, headersOf(got))
    }
    await waitUntil(
      async () => ((await job(url, env.job_id)).webhook as { delivered?: boolean })?.delivered === true,
    )
    expect((await job(url, env.job_id)).webhook).toEqual({ delivered: true, attempts: 3, last_error: null })
  })

  it('honours Retry-After between attempts', async () => {
    const hook = await receiver()
    hook.behaviours.push({ status: 503, headers: { 'retry-after': '1' } })
    const url = await worker({ webhookSecret: newSecret(), webhookBackoffMs: 1 })
    await run(url, { webhook: hook.url })
    await waitUntil(() => hook.received.length === 2)
    const [first, second] = hook.received as [Received, Received]
    expect(second.at - first.at).toBeGreaterThanOrEqual(900)
  })

  it('gives up after the attempt bound and records why', async () => {
    const hook = await receiver()
    hook.behaviours.push(...Array.from({ length: 10 }, () => ({ status: 500 })))
    const url = await worker({ webhookSecret: newSecret(), webhookMaxAttempts: 3 })
    const env = (await (await run(url, { webhook: { url: hook.url } })).json()) as { job_id: string }
    await waitUntil(
      async () => ((await job(url, env.job_id)).webhook as { attempts?: number })?.attempts === 3,
    )
    await new Promise((r) => setTimeout(r, 300))
    expect(hook.received).toHaveLength(3)
    const status = (await job(url, env.job_id)).webhook as Record<string, unknown>
    expect(status.delivered).toBe(false)
    expect(status.last_error).toMatch(/HTTP 500.*gave up after 3 attempts/)
    expect((await job(url, env.job_id)).status).toBe('completed')
  })

  it('gives up when the next retry would pass the total time bound', async () => {
    const hook = await receiver()
    hook.behaviours.push({ status: 500 }, { status: 500 })
    const url = await worker({ webhookSecret: newSecret(), webhookBackoffMs: 2_000, webhookMaxSeconds: 1 })
    const env = (await (await run(url, { webhook: { url: hook.url } })).json()) as { job_id: string }
    await waitUntil(
      async () =>
        typeof ((await job(url, env.job_id)).webhook as { last_error?: unknown })?.last_error === 'string' &&
        hook.received.length === 1,
    )
    await waitUntil(async () =>
      /gave up/.test(String(((await job(url, env.job_id)).webhook as { last_error?: unknown }).last_error)),
    )
    expect(hook.received).toHaveLength(1)
  })

  it('a receiver that never answers does not hold up the job or its progress', async () => {
    const hook = await receiver()
    for (let i = 0; i < 20; i++) hook.behaviours.push('hang')
    const url = await worker({
      webhookSecret: newSecret(),
      webhookTimeoutMs: 10_000,
      steps: 4,
      webhookProgressMs: 0,
      shutdownGraceMs: 200,
    })
    const res = await run(url, { webhook: { url: hook.url, events: ['progress', 'completed'] } })
    const env = (await res.json()) as { status: string; job_id: string; webhook: unknown }
    // The job finished while the receiver still sits on the first (progress) delivery, unanswered.
    expect(env.status).toBe('completed')
    expect(hook.hanging).toBeGreaterThanOrEqual(1)
    expect((env.webhook as { delivered: boolean }).delivered).toBe(false)
  })

  it('sends progress events when asked, then the terminal one', async () => {
    const secret = newSecret()
    const hook = await receiver()
    const url = await worker({ webhookSecret: secret, steps: 3, stepMs: 30, webhookProgressMs: 0 })
    await run(url, { webhook: { url: hook.url, events: ['progress', 'completed'] } })
    await waitUntil(() => hook.received.some((r) => JSON.parse(r.body).event === 'completed'))
    const events = hook.received.map((r) =>
      verifyWebhook(secret, r.headers as Record<string, string>, r.body),
    )
    expect(events.at(-1)?.event).toBe('completed')
    expect(events.filter((e) => e.event === 'progress').length).toBeGreaterThanOrEqual(1)
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length)
  })

  it('sends cancelled for a cancelled job, and only the events asked for', async () => {
    const hook = await receiver()
    const url = await worker({ webhookSecret: newSecret(), steps: 50, stepMs: 50 })
    const env = (await (await run(url, { webhook: { url: hook.url, events: ['cancelled'] } }, 0)).json()) as {
      job_id: string
    }
    await fetch(`${url}/jobs/${env.job_id}`, { method: 'DELETE' })
    await waitUntil(() => hook.received.length === 1)
    expect(JSON.parse((hook.received[0] as Received).body)).toMatchObject({
      status: 'cancelled',
      event: 'cancelled',
    })
    const hook2 = await receiver()
    const other = (await (await run(url, { webhook: { url: hook2.url, events: ['failed'] } }, 0)).json()) as {
      job_id: string
    }
    await fetch(`${url}/jobs/${other.job_id}`, { method: 'DELETE' })
    await new Promise((r) => setTimeout(r, 200))
    expect(hook2.received).toHaveLength(0)
  })

  it('uses the worker-wide default URL for requests that name none', async () => {
    const hook = await receiver()
    const url = await worker({ webhookSecret: newSecret(), webhookUrl: '' }).catch(() => 'refused')
    expect(url).toBe('refused') // an empty URL is an options error
    const started = await worker({ webhookSecret: newSecret(), webhookUrl: hook.url })
    await run(started, {})
    await waitUntil(() => hook.received.length === 1)
  })

  it('answers 400 WEBHOOK_NOT_CONFIGURED when the worker has no secret', async () => {
    const hook = await receiver()
    const url = await worker({})
    const res = await run(url, { webhook: { url: hook.url } })
    expect(res.status).toBe(400)
    const body = (await res.json()) as { error: { code: string; message: string } }
    expect(body.error.code).toBe('WEBHOOK_NOT_CONFIGURED')
    expect(body.error.message).toMatch(/--webhook-secret/)
  })

  it('refuses a default URL without a secret, and a malformed secret', async () => {
    await expect(worker({ webhookUrl: 'https://hooks.example.com/x' })).rejects.toMatchObject({
      code: 'INVALID_OPTIONS',
    })
    await expect(worker({ webhookSecret: 'not-a-secret' })).rejects.toMatchObject({ code: 'INVALID_OPTIONS' })
  })

  it('answers 400 naming the field for bad webhook fields', async () => {
    const url = await worker({ webhookSecret: newSecret() })
    for (const [webhook, field] of [
      [{ url: '' }, 'webhook.url'],
      [{ url: 'https://hooks.example.com/', events: ['finished'] }, 'webhook.events[0]'],
      [42, 'webhook'],
    ] as const) {
      const res = await run(url, { webhook })
      expect(res.status).toBe(400)
      expect(((await res.json()) as { error: { message: string } }).error.message).toContain(field)
    }
  })
})

describe('webhook SSRF guard', () => {
  it.each([
    ['http://203.0.113.9/hook', /http:\/\/ webhooks are refused/],
    ['https://127.0.0.1:9/hook', /loopback/],
    ['https://10.1.2.3/hook', /private/],
    ['https://192.168.1.1/hook', /private/],
    ['https://169.254.169.254/latest/meta-data', /private, link-local/],
    ['https://[::ffff:169.254.169.254]/', /private, link-local/],
    ['https://[fd00:ec2::254]/', /private, link-local/],
    ['https://user:pw@hooks.example.com/', /credentials/],
    ['ftp://hooks.example.com/', /not allowed/],
  ])('refuses %s at submit (400 WEBHOOK_REFUSED)', async (target, why) => {
    const url = await worker({ webhookSecret: newSecret(), allowLoopbackWebhooks: false })
    const res = await run(url, { webhook: { url: target } })
    expect(res.status).toBe(400)
    const body = (await res.json()) as { error: { code: string; message: string } }
    expect(body.error.code).toBe('WEBHOOK_REFUSED')
    expect(body.error.message).toMatch(why)
  })

  it.each([
    ['localhost', undefined, /loopback/],
    ['metadata.example.test', '169.254.169.254', /private, link-local/],
    ['intranet.example.test', '10.0.0.7', /private/],
    ['mixed.example.test', '93.184.216.34,127.0.0.1', /loopback/],
  ])('refuses a name resolving to a disallowed address after DNS: %s', async (name, addresses, why) => {
    const resolve =
      addresses === undefined
        ? undefined
        : async () => addresses.split(',').map((address) => ({ address, family: 4 }))
    const url = await worker({
      webhookSecret: newSecret(),
      allowLoopbackWebhooks: false,
      ...(resolve ? { webhookResolve: resolve } : {}),
    })
    const env = (await (await run(url, { webhook: { url: `https://${name}:1/hook` } })).json()) as {
      job_id: string
    }
    await waitUntil(
      async () => ((await job(url, env.job_id)).webhook as { attempts?: number })?.attempts === 1,
    )
    const status = (await job(url, env.job_id)).webhook as { delivered: boolean; last_error: string }
    expect(status.delivered).toBe(false)
    expect(status.last_error).toMatch(/^WEBHOOK_REFUSED: /)
    expect(status.last_error).toMatch(why)
  })

  it('with loopback allowed, plain http still goes only to loopback', async () => {
    const url = await worker({
      webhookSecret: newSecret(),
      webhookResolve: async () => [{ address: '93.184.216.34', family: 4 }],
    })
    const env = (await (await run(url, { webhook: 'http://public.example.test/hook' })).json()) as {
      job_id: string
    }
    await waitUntil(
      async () => ((await job(url, env.job_id)).webhook as { attempts?: number })?.attempts === 1,
    )
    expect(((await job(url, env.job_id)).webhook as { last_error: string }).last_error).toMatch(
      /http:\/\/ is allowed only to loopback/,
    )
  })

  it('does not follow redirects', async () => {
    const hook = await receiver()
    const elsewhere = await receiver()
    hook.behaviours.push({ status: 302, headers: { location: elsewhere.url } })
    const url = await worker({ webhookSecret: newSecret() })
    const env = (await (await run(url, { webhook: hook.url })).json()) as { job_id: string }
    await waitUntil(
      async () => ((await job(url, env.job_id)).webhook as { attempts?: number })?.attempts === 1,
    )
    await new Promise((r) => setTimeout(r, 200))
    const status = (await job(url, env.job_id)).webhook as { delivered: boolean; last_error: string }
    expect(status).toMatchObject({ delivered: false, attempts: 1 })
    expect(status.last_error).toMatch(/redirects are not followed/)
    expect(hook.received).toHaveLength(1)
    expect(elsewhere.received).toHaveLength(0)
  })
})
