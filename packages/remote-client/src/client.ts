import type { JobEnvelope, JobStatus, WorkflowSchema } from '@comfy-remote/protocol'
import { parseEnvelope, zWorkflowSchema } from '@comfy-remote/protocol'
import { buildMessage, encodeBody, type RunInputs } from './body.js'
import { type Capabilities, createCore } from './core.js'
import { RemoteJobError } from './errors.js'
import { createReporter, type FollowHooks, follow, isTerminal, settle } from './follow.js'
import { ACCEPT_JSON } from './http.js'
import { joinUrl, type RemoteClientOptions, resolveOptions } from './options.js'
import { absoluteRefs, type OutputFiles, refUrl, resolveRefs } from './refs.js'
import type { CallScope } from './scope.js'

export interface RunOptions extends FollowHooks {
  /** Aborting it cancels the job (`DELETE`, best effort) and rejects with code CANCELLED. */
  signal?: AbortSignal
  /** Idempotency key sent with the submit (and reused by its retries). Default: a random UUID. */
  idempotencyKey?: string
  /** Ask the server to hold the submit up to this many seconds and answer the finished job (`?wait=`). */
  wait?: number
  /** Overrides the client's `timeout` (ms) for this call. */
  timeout?: number
  /** Ask the worker to POST the job's events to this receiver (verify them with verifyWebhook). */
  webhook?: WebhookRequest
  /** Stream outputs the worker sends by reference into files in this folder (`data: {file: path}`). Node only. */
  outputFiles?: OutputFiles
  /**
   * Leave outputs the worker sends by reference as `{ref, bytes}`, `ref` made an absolute URL (the
   * endpoint's origin, or https), and fetch them yourself: `refRequest(ref)` gives the headers.
   */
  keepRefs?: boolean
}

/** Where the worker POSTs signed job events (Standard Webhooks); a URL means the terminal events. */
export type WebhookRequest =
  | string
  | { url: string; events?: Array<'completed' | 'failed' | 'cancelled' | 'progress'> }

export interface SubmitOptions {
  signal?: AbortSignal
  idempotencyKey?: string
  wait?: number
  timeout?: number
  /** Ask the worker to POST the job's events to this receiver (verify them with verifyWebhook). */
  webhook?: WebhookRequest
  outputFiles?: OutputFiles
}

export interface CallOptions {
  signal?: AbortSignal
  timeout?: number
}

export interface StatusOptions extends CallOptions {
  outputFiles?: OutputFiles
  /** Long-poll: seconds the server may hold the answer until the job changes. */
  wait?: number
}

export interface Health {
  [key: string]: unknown
  transports?: string[]
}

export interface RemoteClient {
  /** The endpoint base URL. */
  readonly url: string
  run(inputs: RunInputs, options?: RunOptions): Promise<JobEnvelope>
  submit(inputs: RunInputs, options?: SubmitOptions): Promise<JobEnvelope>
  status(jobIdOrPollUrl: string, options?: StatusOptions): Promise<JobEnvelope>
  cancel(jobIdOrPollUrl: string, options?: CallOptions): Promise<JobEnvelope>
  events(jobId: string, options?: CallOptions): AsyncIterableIterator<JobEnvelope>
  schema(options?: CallOptions): Promise<WorkflowSchema>
  health(options?: CallOptions): Promise<Health>
  /**
   * How to fetch an output ref yourself (`keepRefs`): its absolute URL and the headers to send (the
   * client's headers; the token only to the endpoint's own origin).
   */
  refRequest(ref: string): { url: string; headers: Record<string, string> }
  /**
   * Tell the worker you have read what you need of a finished job (`DELETE /jobs/:id/outputs`): it
   * deletes the job's inputs and outputs now instead of keeping them for its result TTL, and the job
   * answers 404 afterwards. False when the worker predates the route or the job is already gone.
   */
  release(jobIdOrPollUrl: string, options?: CallOptions): Promise<boolean>
}

const CANCEL_BUDGET = 3_000

/** Creates a client for one endpoint (a comfy-remote worker or an original-protocol endpoint). */
export function createRemoteClient(clientOptions: RemoteClientOptions): RemoteClient {
  const options = resolveOptions(clientOptions)
  const core = createCore(options)

  async function submitIn(
    inputs: RunInputs,
    opts: SubmitOptions,
    scope: CallScope,
  ): Promise<{ env: JobEnvelope; caps: Capabilities }> {
    const caps = await core.capabilities(scope)
    const key = opts.idempotencyKey ?? globalThis.crypto.randomUUID()
    if (typeof key !== 'string' || key === '' || /[\r\n]/.test(key))
      throw new RemoteJobError('BAD_OPTIONS', 'run: `idempotencyKey` must be a non-empty single-line string')
    const message = buildMessage(inputs, key)
    if (opts.webhook !== undefined) {
      const hook = typeof opts.webhook === 'string' ? { url: opts.webhook } : opts.webhook
      if (typeof hook?.url !== 'string' || hook.url === '')
        throw new RemoteJobError('BAD_OPTIONS', 'run: `webhook` must be a URL or {url, events?}')
      message.webhook = hook
    }
    const original = Array.isArray(message.inputs)
    if (caps.v1 && !original && options.outputRefs && message.output_refs === undefined)
      message.output_refs = true
    const { body, contentType, byteLength } = await encodeBody(message, core.useMultipart(caps) && !original)
    const wait = opts.wait
    if (wait !== undefined && (typeof wait !== 'number' || !Number.isFinite(wait) || wait < 0)) {
      throw new RemoteJobError(
        'BAD_OPTIONS',
        `run: \`wait\` must be a number of seconds >= 0 (got ${String(wait)})`,
      )
    }
    const send = async (base: string) => {
      const url = new URL(base)
      if (wait !== undefined && wait > 0) url.searchParams.set('wait', String(wait))
      return await core.http.send(
        {
          method: 'POST',
          url: url.href,
          body,
          bodyLength: byteLength,
          headers: { 'content-type': contentType, accept: core.accept(caps), 'idempotency-key': key },
          retries: options.retry.retries,
          // a large body needs time to upload: 1 s per MiB on top (the call's timeout still bounds it)
          extraTime: (wait ?? 0) * 1000 + Math.ceil(byteLength / 1048.576),
          what: 'submit',
          ...(opts.outputFiles ? { spool: opts.outputFiles } : {}),
        },
        scope,
      )
    }
    let reply: Awaited<ReturnType<typeof send>>
    if (caps.v1) {
      try {
        reply = await send(joinUrl(options.url, 'run'))
      } catch (error) {
        // A server with /health but no /run: the original protocol posts to the endpoint itself.
        if (!(error instanceof RemoteJobError) || (error.status !== 404 && error.status !== 405)) throw error
        reply = await send(options.url.href)
      }
    } else {
      reply = await send(options.url.href)
    }
    return { env: parseEnvelope(reply.data, reply.url), caps }
  }

  /** A bodiless request answered with JSON (cancel, schema, health); retries as configured unless told. */
  function sendJson(
    method: 'GET' | 'DELETE',
    url: string,
    what: string,
    scope: CallScope,
    retries = options.retry.retries,
  ) {
    return core.http.send({ method, url, headers: { accept: ACCEPT_JSON }, retries, what }, scope)
  }

  async function cancelQuietly(env: JobEnvelope | undefined): Promise<void> {
    // the job resource the server announced (its poll_url) first: it may differ from <base>/jobs/<id>
    const target = env?.pollUrl ?? env?.jobId
    if (target === undefined || (env && isTerminal(env.status))) return
    const scope = core.scope(undefined, CANCEL_BUDGET)
    try {
      await sendJson('DELETE', core.jobUrl(target), 'cancel', scope, 1)
    } catch {
      // best effort: the job may already be gone
    } finally {
      scope.dispose()
    }
  }

  async function run(inputs: RunInputs, opts: RunOptions = {}): Promise<JobEnvelope> {
    const scope = core.scope(opts.signal, opts.timeout)
    const report = createReporter(opts)
    let last: JobEnvelope | undefined
    try {
      const { env, caps } = await submitIn(inputs, opts, scope)
      last = env
      const done = await follow(
        core,
        env,
        caps,
        scope,
        (next) => {
          last = next
          return report(next)
        },
        opts.outputFiles,
        opts.onPreview,
      )
      return opts.keepRefs ? absoluteRefs(core, done) : await resolveRefs(core, done, scope, opts.outputFiles)
    } catch (error) {
      const ended = scope.endedBy
      if (ended) {
        await cancelQuietly(last)
        throw (
          scope.endError(
            last?.jobId ? `remote job ${last.jobId}` : 'the remote call',
            last,
            opts.timeout ?? options.timeout,
          ) ?? error
        )
      }
      throw error
    } finally {
      scope.dispose()
    }
  }

  async function withScope<T>(opts: CallOptions, fn: (scope: CallScope) => Promise<T>): Promise<T> {
    const scope = core.scope(opts.signal, opts.timeout)
    try {
      return await fn(scope)
    } finally {
      scope.dispose()
    }
  }

  return {
    url: options.url.href,
    run,
    submit: (inputs, opts = {}) =>
      withScope(opts, async (scope) => {
        const { env } = await submitIn(inputs, opts, scope)
        return isTerminal(env.status) ? await resolveRefs(core, settle(env), scope, opts.outputFiles) : env
      }),
    status: (idOrUrl, opts = {}) =>
      withScope(opts, async (scope) => {
        const caps = await core.capabilities(scope)
        const env = await core.poll(
          core.jobUrl(idOrUrl),
          caps.v1 ? opts.wait : undefined,
          scope,
          caps,
          opts.outputFiles,
        )
        return env.status === 'completed' ? await resolveRefs(core, env, scope, opts.outputFiles) : env
      }),
    cancel: (idOrUrl, opts = {}) =>
      withScope(opts, async (scope) => {
        const url = core.jobUrl(idOrUrl)
        const reply = await sendJson('DELETE', url, 'cancel', scope)
        return parseEnvelope(reply.data, url)
      }),
    release: (idOrUrl, opts = {}) =>
      withScope(opts, async (scope) => {
        try {
          await sendJson('DELETE', `${core.jobUrl(idOrUrl)}/outputs`, 'release', scope)
          return true
        } catch (error) {
          if (error instanceof RemoteJobError && (error.status === 404 || error.status === 405)) return false
          throw error
        }
      }),
    events: (jobId, opts = {}) => iterate(jobId, opts),
    schema: (opts = {}) =>
      withScope(opts, async (scope) => {
        const url = joinUrl(options.url, 'schema')
        const reply = await sendJson('GET', url, 'schema', scope)
        const parsed = zWorkflowSchema.safeParse(reply.data)
        if (!parsed.success) {
          const issue = parsed.error.issues[0]
          const field = issue ? issue.path.join('.') || '(root)' : '(root)'
          throw new RemoteJobError(
            'MALFORMED_RESPONSE',
            `${url} is not a comfy-remote workflow schema: field \`${field}\` ${issue?.message ?? 'is invalid'}`,
            { url, status: reply.status },
          )
        }
        return parsed.data
      }),
    refRequest(ref) {
      const url = refUrl(core, ref)
      return { url, headers: core.http.headersFor(url) }
    },
    health: (opts = {}) =>
      withScope(opts, async (scope) => {
        const url = joinUrl(options.url, 'health')
        const reply = await sendJson('GET', url, 'health', scope)
        return reply.data as Health
      }),
  }

  async function* iterate(jobId: string, opts: CallOptions): AsyncGenerator<JobEnvelope> {
    const scope = core.scope(opts.signal, opts.timeout)
    try {
      for await (const env of core.events(jobId, scope)) {
        yield env
        if (isTerminal(env.status)) return
      }
    } finally {
      scope.dispose()
    }
  }
}

export type { JobEnvelope, JobStatus }
