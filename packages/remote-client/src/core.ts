import type { JobEnvelope } from '@comfy-remote/protocol'
import { parseEnvelope } from '@comfy-remote/protocol'
import { codeForStatus, RemoteJobError } from './errors.js'
import { ACCEPT_JSON, ACCEPT_MULTIPART, createHttp, type Http, parseBody, readBody } from './http.js'
import { joinUrl, type ResolvedOptions } from './options.js'
import { type PreviewInfo, readPreview } from './preview.js'
import type { OutputFiles } from './refs.js'
import { CallScope } from './scope.js'
import { parseSse } from './sse.js'

/** What the server told us about itself through `GET /health`. */
export interface Capabilities {
  /** The server speaks the v1 contract (answered `/health` with a JSON object). */
  v1: boolean
  /** Transports it accepts (`json`, `multipart`). */
  transports: string[]
}

export interface Core {
  readonly options: ResolvedOptions
  readonly http: Http
  capabilities(scope: CallScope): Promise<Capabilities>
  useMultipart(caps: Capabilities): boolean
  accept(caps: Capabilities): string
  jobUrl(idOrUrl: string): string
  scope(signal?: AbortSignal, timeout?: number): CallScope
  poll(
    url: string,
    wait: number | undefined,
    scope: CallScope,
    caps: Capabilities,
    spool?: OutputFiles,
  ): Promise<JobEnvelope>
  events(
    jobId: string,
    scope: CallScope,
    onPreview?: (preview: PreviewInfo) => void,
  ): AsyncGenerator<JobEnvelope>
}

const HEALTH_TIMEOUT = 5_000
const ORIGINAL: Capabilities = { v1: false, transports: ['json'] }

export function createCore(options: ResolvedOptions): Core {
  const http = createHttp(options)
  let known: Capabilities | undefined

  /** Asks /health once; undefined when the server could not be reached (asked again next time). */
  async function probe(scope: CallScope): Promise<Capabilities | undefined> {
    const url = joinUrl(options.url, 'health')
    try {
      const response = await http.raw(url, {
        headers: { ...options.headers, accept: ACCEPT_JSON },
        signal: AbortSignal.any([
          scope.signal,
          AbortSignal.timeout(Math.min(HEALTH_TIMEOUT, options.requestTimeout)),
        ]),
      })
      const body = await readBody(response)
      if (response.status >= 300) return ORIGINAL
      const data = parseBody(body, response.headers.get('content-type') ?? '', url, response.status)
      const transports = Array.isArray(data.transports)
        ? data.transports.filter((t): t is string => typeof t === 'string')
        : ['json']
      return { v1: true, transports }
    } catch (error) {
      const ended = scope.endError('health check')
      if (ended) throw ended
      // Not JSON: an original-protocol endpoint. Unreachable: unknown, the submit will say why.
      return error instanceof RemoteJobError ? ORIGINAL : undefined
    }
  }

  async function capabilities(scope: CallScope): Promise<Capabilities> {
    if (options.transport === 'json' && options.follow === 'poll') return ORIGINAL
    if (known) return known
    const caps = await probe(scope)
    if (caps) known = caps
    return caps ?? ORIGINAL
  }

  function useMultipart(caps: Capabilities): boolean {
    if (options.transport === 'multipart') return true
    return options.transport === 'auto' && caps.transports.includes('multipart')
  }

  function accept(caps: Capabilities): string {
    return useMultipart(caps) ? ACCEPT_MULTIPART : ACCEPT_JSON
  }

  function jobUrl(idOrUrl: string): string {
    if (typeof idOrUrl !== 'string' || idOrUrl === '') {
      throw new RemoteJobError('BAD_OPTIONS', 'a job id or poll URL (non-empty string) is required')
    }
    if (/^https?:\/\//i.test(idOrUrl) || idOrUrl.startsWith('/')) return new URL(idOrUrl, options.url).href
    return joinUrl(options.url, `jobs/${encodeURIComponent(idOrUrl)}`)
  }

  function scope(signal?: AbortSignal, timeout?: number): CallScope {
    return new CallScope(timeout ?? options.timeout, signal)
  }

  async function poll(
    url: string,
    wait: number | undefined,
    callScope: CallScope,
    caps: Capabilities,
    spool?: OutputFiles,
  ): Promise<JobEnvelope> {
    let target = url
    if (wait !== undefined && wait > 0) {
      const u = new URL(url)
      u.searchParams.set('wait', String(wait))
      target = u.href
    }
    const reply = await http.send(
      {
        method: 'GET',
        url: target,
        headers: { accept: accept(caps) },
        retries: Number.POSITIVE_INFINITY,
        extraTime: (wait ?? 0) * 1000,
        what: 'poll',
        ...(spool ? { spool } : {}),
      },
      callScope,
    )
    return parseEnvelope(reply.data, url)
  }

  async function* events(
    jobId: string,
    callScope: CallScope,
    onPreview?: (preview: PreviewInfo) => void,
  ): AsyncGenerator<JobEnvelope> {
    const target = new URL(joinUrl(options.url, `jobs/${encodeURIComponent(jobId)}/events`))
    if (onPreview) target.searchParams.set('previews', '1')
    const url = target.href
    /** The call's own end (timeout, abort) wins over the network error it caused. */
    const broken = (how: string, cause: unknown) =>
      callScope.endError('events') ??
      new RemoteJobError(
        'NETWORK',
        `events ${url} ${how}: ${cause instanceof Error ? cause.message : String(cause)}`,
        { url, cause },
      )
    let response: Response & { _data?: ReadableStream<Uint8Array> }
    try {
      response = await http.stream(url, { accept: 'text/event-stream' }, callScope.signal)
    } catch (cause) {
      throw broken('failed', cause)
    }
    const type = response.headers.get('content-type') ?? ''
    if (response.status >= 300 || !/^text\/event-stream/i.test(type) || !response._data) {
      response._data?.cancel().catch(() => undefined)
      const code = response.status >= 400 ? codeForStatus(response.status) : 'MALFORMED_RESPONSE'
      throw new RemoteJobError(
        code,
        `events ${url} answered HTTP ${response.status} (${type || 'no content type'}) instead of an event stream`,
        { url, status: response.status },
      )
    }
    try {
      for await (const event of parseSse(response._data, { idleMs: options.eventsIdleTimeout })) {
        if (event.event === 'preview') {
          const preview = onPreview && readPreview(event.data)
          try {
            if (preview) onPreview(preview)
          } catch {
            // the caller's hook failing must not end following the job
          }
          continue
        }
        if (event.event === 'ping' || event.event === 'heartbeat') continue
        let data: unknown
        try {
          data = JSON.parse(event.data)
        } catch {
          continue
        }
        if (typeof data !== 'object' || data === null || Array.isArray(data)) continue
        yield parseEnvelope(data, url)
      }
    } catch (cause) {
      throw broken('broke off', cause)
    }
  }

  return { options, http, capabilities, useMultipart, accept, jobUrl, scope, poll, events }
}
