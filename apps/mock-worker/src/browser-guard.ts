import type { FastifyInstance } from 'fastify'
import { isLoopbackHost } from './auth.js'
import { MockWorkerError } from './errors.js'

/** The host name of a Host header (`127.0.0.1:8787`, `[::1]:8787`, `localhost`). */
function hostName(header: string): string {
  const trimmed = header.trim()
  if (trimmed.startsWith('[')) return trimmed.slice(0, trimmed.indexOf(']') + 1)
  return trimmed.replace(/:\d+$/, '')
}

function originOf(url: string): string | undefined {
  try {
    return new URL(url).origin
  } catch {
    return undefined
  }
}

/**
 * Browser defences of a local worker (cross-site requests and DNS rebinding):
 * - a request from a web page (an `Origin` header) must come from the worker's own origin or one
 *   listed in `allowOrigins`; others are 403 FORBIDDEN_ORIGIN;
 * - bound to loopback, the `Host` header must be a loopback name, so a rebinding page whose host name
 *   resolves to 127.0.0.1 is refused (403 FORBIDDEN_HOST).
 * HTML forms' `text/plain` bodies are not parsed at all (415), see buildApp.
 */
export function registerBrowserGuard(app: FastifyInstance, boundHost: string, allowOrigins: string[]): void {
  const allowed = new Set(allowOrigins.map((o) => originOf(o) ?? o))
  const checkHost = isLoopbackHost(boundHost)
  app.addHook('onRequest', async (request) => {
    const host = request.headers.host ?? ''
    if (checkHost && !isLoopbackHost(hostName(host))) {
      throw new MockWorkerError(
        'FORBIDDEN_HOST',
        `Host "${host}" is not a loopback name; call the worker as http://127.0.0.1:<port> (or localhost).`,
      )
    }
    const origin = request.headers.origin
    if (origin === undefined) return
    if (origin === `http://${host}` || origin === `https://${host}` || allowed.has(origin)) return
    throw new MockWorkerError(
      'FORBIDDEN_ORIGIN',
      `Requests from the web page ${origin} are refused; call the worker from a program, or start it with --allow-origin ${origin}.`,
    )
  })
}
