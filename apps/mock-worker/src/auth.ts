import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { MockWorkerError } from './errors.js'

const digest = (value: string): Buffer => createHash('sha256').update(value).digest()

/** Constant-time comparison of a presented token with the configured one. */
export function tokenMatches(presented: string, expected: string): boolean {
  return timingSafeEqual(digest(presented), digest(expected))
}

/** Require `Authorization: Bearer <token>` on every route but /health. */
export function registerAuth(app: FastifyInstance, token: string): void {
  app.addHook('onRequest', async (request, reply) => {
    const path = request.url.split('?', 1)[0]
    if (path === '/health') return
    const header = request.headers.authorization
    const match = typeof header === 'string' ? /^Bearer\s+(.+)$/i.exec(header.trim()) : null
    if (match?.[1] !== undefined && tokenMatches(match[1], token)) return
    reply.header('www-authenticate', 'Bearer realm="comfy-remote"')
    throw new MockWorkerError(
      'UNAUTHORIZED',
      header === undefined
        ? 'Missing Authorization header; send "Authorization: Bearer <token>" with the worker\'s token.'
        : 'Invalid token; send "Authorization: Bearer <token>" with the token the worker was started with.',
    )
  })
}

/** True for hosts that only accept connections from this machine. */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h) || h === '::ffff:127.0.0.1'
}
