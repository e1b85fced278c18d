import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import type { WorkerContext } from '../context.js'
import { TRANSPORTS } from '../transport.js'

/** The wire protocol version /health and /schema report (docs/protocol.md is v1). */
export const PROTOCOL_VERSION = 1

import { envelopeResponses, zHealth, zWorkflowSchema } from './schemas.js'

/** GET /schema (the workflow's contract) and GET /health. */
export function registerMetaRoutes(app: FastifyInstance, ctx: WorkerContext): void {
  const typed = app.withTypeProvider<ZodTypeProvider>()
  const schemaText = JSON.stringify({
    ...ctx.contract,
    transports: [...TRANSPORTS],
    protocol_version: PROTOCOL_VERSION,
  })
  typed.get(
    '/schema',
    {
      schema: {
        summary: "The workflow's contract",
        description:
          'Remote Inputs (name, type, required, default) and Remote Outputs (name, type), and the transports the worker accepts.',
        response: { 200: zWorkflowSchema, 401: envelopeResponses[401] },
      },
    },
    async (_request, reply) => reply.type('application/json; charset=utf-8').send(schemaText as never),
  )
  typed.get(
    '/health',
    {
      schema: {
        summary: 'Liveness and readiness',
        description:
          'Never needs a token. `status` is `degraded` when the engine cannot work (e.g. ComfyUI is down).',
        response: { 200: zHealth },
      },
    },
    async (_request, reply) => {
      const engine = await ctx.engine.health()
      const body: Record<string, unknown> = {
        status: engine.ok ? 'ok' : 'degraded',
        protocol_version: PROTOCOL_VERSION,
        engine: ctx.engine.name,
        transports: [...TRANSPORTS],
        auth: ctx.auth,
        accepting: ctx.store.accepting,
        jobs: ctx.store.stats,
      }
      if (engine.detail !== undefined) body.detail = engine.detail
      return reply.type('application/json; charset=utf-8').send(JSON.stringify(body) as never)
    },
  )
}
