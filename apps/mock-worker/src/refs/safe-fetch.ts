import { lookup as dnsLookup, type LookupAddress } from 'node:dns'
import { request as httpRequest, type IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { isIP, type LookupFunction } from 'node:net'
import { MockWorkerError } from '../errors.js'
import type { FileBytes } from '../spool/file-bytes.js'
import type { JobSpool } from '../spool/spool.js'
import { isPublicAddress } from './address-policy.js'

/** What the worker may fetch for an input given by `ref`. */
export interface RefPolicy {
  /** Allow loopback/private/link-local targets (dev only: `--allow-private-refs`). */
  allowPrivate: boolean
  /** Allow plain http:// (dev only: `--allow-http-refs`). */
  allowHttp: boolean
  /** Largest body, in bytes. */
  maxBytes: number
  /** Whole fetch (all redirects, the body) at most this long, in ms. */
  timeoutMs: number
  /** Redirects followed at most (each one re-checked). */
  maxRedirects: number
  /** Replaces the public-address rule (tests only): true = the resolved address may be used. */
  addressFilter?: (address: string) => boolean
}

function addressAllowed(policy: RefPolicy, address: string): boolean {
  if (policy.addressFilter !== undefined) return policy.addressFilter(address)
  return policy.allowPrivate || isPublicAddress(address)
}

const REDIRECTS = new Set([301, 302, 303, 307, 308])

function refused(field: string, message: string, details: Record<string, unknown> = {}): MockWorkerError {
  return new MockWorkerError('REF_REFUSED', `${field}.ref: ${message}`, { details: { field, ...details } })
}

/** Scheme and shape of a ref URL; throws REF_REFUSED naming the field. */
export function checkRefUrl(raw: string, policy: RefPolicy, field: string): URL {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw refused(field, `${JSON.stringify(raw.slice(0, 200))} is not an absolute URL; give an https:// URL.`)
  }
  const okScheme = url.protocol === 'https:' || (policy.allowHttp && url.protocol === 'http:')
  if (!okScheme) {
    throw refused(
      field,
      `scheme ${url.protocol} is not allowed; give an https:// URL${url.protocol === 'http:' ? ' (or start the worker with --allow-http-refs for local development)' : ''}.`,
      { url: url.origin },
    )
  }
  const host = url.hostname.replace(/^\[|\]$/g, '')
  if (isIP(host) !== 0 && !addressAllowed(policy, host)) {
    throw refused(
      field,
      `${host} is a private, loopback or link-local address; refs must point to public hosts (or start the worker with --allow-private-refs for local development).`,
      { host },
    )
  }
  return url
}

/** A DNS lookup that refuses names resolving to non-public addresses (checked on every connection). */
function guardedLookup(policy: RefPolicy, field: string): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, '', 0)
      const list = addresses as unknown as LookupAddress[]
      const bad = list.find((a) => !addressAllowed(policy, a.address))
      if (bad !== undefined) {
        return callback(
          refused(
            field,
            `${hostname} resolves to ${bad.address}, a private, loopback or link-local address; refs must point to public hosts (or start the worker with --allow-private-refs for local development).`,
            { host: hostname, address: bad.address },
          ) as unknown as NodeJS.ErrnoException,
          '',
          0,
        )
      }
      const first = list[0]
      if (first === undefined) return callback(new Error(`${hostname} has no address`), '', 0)
      if ((options as { all?: boolean }).all)
        return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, list)
      callback(null, first.address, first.family)
    })
  }
}

function get(url: URL, policy: RefPolicy, field: string, signal: AbortSignal): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest
    const req = send(url, {
      method: 'GET',
      lookup: guardedLookup(policy, field),
      agent: false,
      signal,
      headers: { accept: '*/*', 'user-agent': 'comfy-remote-mock-worker' },
    })
    req.once('response', resolve)
    req.once('error', reject)
    req.end()
  })
}

/**
 * Fetches a ref input into a spool file, SSRF-safe: https only (unless allowed), every address the
 * name resolves to must be public (checked at connect time, so the checked address is the one used),
 * each redirect re-checked, the size and the total time bounded. Errors: REF_REFUSED, REF_TOO_LARGE,
 * REF_FETCH_FAILED, each naming the field.
 */
export async function fetchRef(
  raw: string,
  field: string,
  spool: JobSpool,
  policy: RefPolicy,
  jobSignal: AbortSignal,
): Promise<FileBytes> {
  const signal = AbortSignal.any([jobSignal, AbortSignal.timeout(policy.timeoutMs)])
  let url = checkRefUrl(raw, policy, field)
  for (let hop = 0; ; hop++) {
    let res: IncomingMessage
    try {
      res = await get(url, policy, field, signal)
    } catch (error) {
      if (error instanceof MockWorkerError) throw error
      if (jobSignal.aborted) throw jobSignal.reason
      const why = signal.aborted ? `no answer within ${policy.timeoutMs} ms` : (error as Error).message
      throw new MockWorkerError('REF_FETCH_FAILED', `${field}.ref: fetching ${url.origin} failed: ${why}.`, {
        details: { field, url: url.origin },
      })
    }
    const status = res.statusCode ?? 0
    if (REDIRECTS.has(status) && res.headers.location !== undefined) {
      res.resume()
      if (hop >= policy.maxRedirects) {
        throw new MockWorkerError(
          'REF_FETCH_FAILED',
          `${field}.ref: more than ${policy.maxRedirects} redirects.`,
          {
            details: { field },
          },
        )
      }
      url = checkRefUrl(new URL(res.headers.location, url).href, policy, field)
      continue
    }
    if (status < 200 || status >= 300) {
      res.resume()
      throw new MockWorkerError('REF_FETCH_FAILED', `${field}.ref: ${url.origin} answered HTTP ${status}.`, {
        details: { field, status },
      })
    }
    const declared = Number(res.headers['content-length'])
    if (declared > policy.maxBytes) {
      res.destroy()
      throw tooLarge(field, policy)
    }
    let size = 0
    res.on('data', (chunk: Buffer) => {
      size += chunk.byteLength
      if (size > policy.maxBytes) res.destroy(tooLarge(field, policy))
    })
    try {
      return await spool.write(res, 'ref')
    } catch (error) {
      if (error instanceof MockWorkerError) throw error
      if (jobSignal.aborted) throw jobSignal.reason
      const why = signal.aborted ? `not complete within ${policy.timeoutMs} ms` : (error as Error).message
      throw new MockWorkerError('REF_FETCH_FAILED', `${field}.ref: reading ${url.origin} failed: ${why}.`, {
        details: { field },
      })
    }
  }
}

function tooLarge(field: string, policy: RefPolicy): MockWorkerError {
  return new MockWorkerError(
    'REF_TOO_LARGE',
    `${field}.ref: the resource is larger than the limit of ${policy.maxBytes} bytes; send a smaller one or raise --ref-max-bytes.`,
    { details: { field, limit: policy.maxBytes } },
  )
}
