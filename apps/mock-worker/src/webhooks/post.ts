import { lookup as dnsLookup } from 'node:dns/promises'
import http from 'node:http'
import https from 'node:https'
import { isIP, type LookupFunction } from 'node:net'
import { addressAllowed, classifyAddress } from '../net/address-policy.js'

/** Resolves a host name to its addresses (dns.lookup with all: true; injectable for tests). */
export type ResolveHost = (hostname: string) => Promise<Array<{ address: string; family: number }>>

export interface PostOptions {
  timeoutMs: number
  /** Allow http:// and loopback addresses (local development only). */
  allowLoopback: boolean
  resolve?: ResolveHost
  /** Response bytes read (and ignored) at most before the connection is dropped. */
  maxResponseBytes?: number
  /** Ends the attempt early (worker shutdown). */
  signal?: AbortSignal
}

/** The outcome of one delivery attempt. `permanent` failures are not retried. */
export interface AttemptResult {
  ok: boolean
  status?: number
  /** The receiver's Retry-After, in ms, when it sent one. */
  retryAfterMs?: number
  error?: string
  permanent?: boolean
}

const defaultResolve: ResolveHost = (hostname) => dnsLookup(hostname, { all: true, verbatim: true })

/** Checks the URL's form: https (http only to loopback when allowed), no credentials. Throws a message. */
export function checkWebhookUrl(raw: string, allowLoopback: boolean): URL {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new Error(`${JSON.stringify(raw)} is not an absolute URL; use https://host/path.`)
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new Error(`${url.protocol} URLs are not allowed; use https://.`)
  if (url.protocol === 'http:' && !allowLoopback)
    throw new Error(
      'http:// webhooks are refused: use https:// (plain http only to loopback with --allow-loopback-webhooks, for local development).',
    )
  if (url.username !== '' || url.password !== '')
    throw new Error('credentials in the URL are not allowed; authenticate with the webhook signature.')
  const host = url.hostname.replace(/^\[|\]$/g, '')
  if (isIP(host) !== 0 && !addressAllowed(host, allowLoopback)) throw new Error(refusal(host))
  return url
}

function refusal(address: string): string {
  const kind = classifyAddress(address)
  if (kind === 'loopback')
    return `address ${address} is loopback; allowed only with --allow-loopback-webhooks (local development).`
  return `address ${address} is private, link-local or reserved; webhooks go only to public addresses.`
}

/** Resolve and check every address of the URL's host; returns the one to connect to. */
async function pinnedAddress(
  url: URL,
  options: PostOptions,
): Promise<{ address: string; family: number } | string> {
  const host = url.hostname.replace(/^\[|\]$/g, '')
  let addresses: Array<{ address: string; family: number }>
  if (isIP(host) !== 0) addresses = [{ address: host, family: isIP(host) }]
  else {
    try {
      addresses = await (options.resolve ?? defaultResolve)(host)
    } catch (error) {
      return `cannot resolve ${host}: ${(error as Error).message}`
    }
  }
  if (addresses.length === 0) return `cannot resolve ${host}: no addresses`
  for (const { address } of addresses) {
    if (!addressAllowed(address, options.allowLoopback))
      throw new Error(`${host} resolves to ${refusal(address)}`)
    if (url.protocol === 'http:' && classifyAddress(address) !== 'loopback')
      throw new Error(`http:// is allowed only to loopback addresses; ${host} resolves to ${address}.`)
  }
  return addresses[0] as { address: string; family: number }
}

/** Seconds or an HTTP date, as ms from now; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined
  const text = value.trim()
  if (/^\d+$/.test(text)) return Number(text) * 1000
  const at = Date.parse(text)
  return Number.isNaN(at) ? undefined : Math.max(0, at - now)
}

/**
 * One POST of a signed webhook: resolves the host, refuses disallowed addresses (after DNS, pinning
 * the checked address for the connection), follows no redirect, reads at most a few KiB of the
 * answer and ignores them, gives up after `timeoutMs`.
 */
export async function postWebhook(
  url: URL,
  headers: Record<string, string>,
  body: Buffer,
  options: PostOptions,
): Promise<AttemptResult> {
  let pinned: { address: string; family: number } | string
  try {
    pinned = await pinnedAddress(url, options)
  } catch (error) {
    return { ok: false, permanent: true, error: `WEBHOOK_REFUSED: ${(error as Error).message}` }
  }
  if (typeof pinned === 'string') return { ok: false, error: pinned }
  const target = pinned
  const lookup: LookupFunction = (_hostname, opts, callback) => {
    if ((opts as { all?: boolean }).all)
      (callback as unknown as (e: null, a: Array<{ address: string; family: number }>) => void)(null, [
        target,
      ])
    else callback(null, target.address, target.family)
  }
  const cap = options.maxResponseBytes ?? 4096
  const client = url.protocol === 'https:' ? https : http
  return new Promise<AttemptResult>((resolve) => {
    let settled = false
    const finish = (result: AttemptResult): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      options.signal?.removeEventListener('abort', onAbort)
      resolve(result)
    }
    const req = client.request(url, {
      method: 'POST',
      agent: false,
      lookup,
      headers: { ...headers, 'content-length': String(body.byteLength) },
    })
    const timer = setTimeout(() => {
      req.destroy()
      finish({ ok: false, error: `no answer within ${options.timeoutMs} ms` })
    }, options.timeoutMs)
    const onAbort = (): void => {
      req.destroy()
      finish({ ok: false, error: 'the worker shut down during the attempt' })
    }
    options.signal?.addEventListener('abort', onAbort, { once: true })
    req.on('error', (error) => finish({ ok: false, error: error.message }))
    req.on('response', (res) => {
      const status = res.statusCode ?? 0
      let seen = 0
      res.on('data', (chunk: Buffer) => {
        seen += chunk.byteLength
        if (seen > cap) res.destroy()
      })
      res.on('error', () => {})
      res.on('close', () => req.destroy())
      const result: AttemptResult = { ok: status >= 200 && status < 300, status }
      const retryAfter = parseRetryAfter(res.headers['retry-after'])
      if (retryAfter !== undefined) result.retryAfterMs = retryAfter
      if (!result.ok) {
        result.error =
          status >= 300 && status < 400
            ? `the receiver answered ${status} (a redirect); redirects are not followed, configure the final URL`
            : `the receiver answered HTTP ${status}`
        if (status >= 300 && status < 400) result.permanent = true
      }
      finish(result)
    })
    req.end(body)
  })
}
