import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import Fastify, { type FastifyInstance } from 'fastify'
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod'
import { isLoopbackHost, registerAuth } from './auth.js'
import { registerBrowserGuard } from './browser-guard.js'
import { createContext } from './context.js'
import { createComfyuiEngine } from './engines/comfyui.js'
import { createEchoEngine } from './engines/echo.js'
import type { Engine, EngineContext } from './engines/types.js'
import { registerErrorHandler } from './error-handler.js'
import { MockWorkerError } from './errors.js'
import type { Job, WireEnvelope } from './job.js'
import { JobStore } from './job-store.js'
import { defaultObjectInfo, fetchObjectInfo } from './object-info.js'
import { parseOptions, type ResolvedOptions, type WorkerOptions } from './options.js'
import { runPrepared } from './refs/prepared-job.js'
import type { RefPolicy } from './refs/safe-fetch.js'
import { frameworkErrors, registerBodilessMethods } from './request-edges.js'
import { type OpenStreams, registerEventRoutes } from './routes/events.js'
import { registerJobRoutes } from './routes/jobs.js'
import { registerMetaRoutes } from './routes/meta.js'
import { registerOutputRoutes } from './routes/outputs.js'
import { registerRunRoutes } from './routes/run.js'
import { SpoolRoot } from './spool/spool.js'
import { registerMultipartParser } from './transport.js'
import { WebhookDispatcher } from './webhooks/dispatcher.js'
import { webhookSetup } from './webhooks/setup.js'
import { isUiWorkflow, type LoadedWorkflow, type ObjectInfo, prepareWorkflow } from './workflow.js'

function createEngine(options: ResolvedOptions, context: EngineContext): Engine {
  if (options.engine === 'comfyui') {
    return createComfyuiEngine(context, {
      url: options.comfyuiUrl,
      timeoutMs: options.comfyuiTimeoutMs,
      historyRetries: options.historyRetries,
      historyRetryMs: options.historyRetryMs,
      historyPollMs: options.historyPollMs,
      ...(options.comfyuiUploadPartBytes === undefined
        ? {}
        : { uploadPartBytes: options.comfyuiUploadPartBytes }),
      fileTransfer: options.comfyuiFileTransfer,
    })
  }
  const echo = {
    steps: options.steps,
    stepMs: options.stepMs,
    failRate: options.failRate,
    previewSize: options.echoPreviewSize,
  }
  return createEchoEngine(context, options.random === undefined ? echo : { ...echo, random: options.random })
}

/** Refuse a non-loopback host without a token (secure by default). */
export function assertSafeHost(host: string, token: string | undefined): void {
  if (!isLoopbackHost(host) && token === undefined) {
    throw new MockWorkerError(
      'INSECURE_HOST',
      `Refusing to listen on ${host} without a token: anyone on the network could run jobs. Pass --token <secret> (or listen on 127.0.0.1).`,
    )
  }
}

/**
 * Load the workflow. The object_info (to convert UI workflows and type the contract) is the given one,
 * else (comfyui engine) the server's, else the one shipped with io-helpers.
 */
async function loadWorkflow(options: ResolvedOptions, warn: (msg: string) => void): Promise<LoadedWorkflow> {
  const ui = isUiWorkflow(options.workflow)
  let objectInfo = options.objectInfo as ObjectInfo | undefined
  if (objectInfo === undefined && options.engine === 'comfyui') {
    objectInfo = await fetchObjectInfo(options.comfyuiUrl, 3_000).catch((error: unknown) => {
      warn(`${(error as Error).message} Using the object_info shipped with io-helpers instead.`)
      return undefined
    })
  }
  objectInfo ??= await defaultObjectInfo().catch((error: unknown) => {
    if (ui) throw error
    return undefined
  })
  return prepareWorkflow(options.workflow, objectInfo, warn)
}

/**
 * Build the worker: a Fastify instance implementing the worker HTTP
 * contract for one workflow. Not listening yet; `app.close()` drains jobs.
 */
export async function buildApp(input: WorkerOptions): Promise<FastifyInstance> {
  const options = parseOptions(input)
  assertSafeHost(options.host, options.token)
  const app = Fastify({
    logger: options.logger,
    bodyLimit: options.bodyLimit,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    frameworkErrors,
  })
  const workflow = await loadWorkflow(options, (msg) => app.log.warn(msg))
  app.setValidatorCompiler(validatorCompiler)
  app.setSerializerCompiler(serializerCompiler)
  // HTML forms can post text/plain cross-site without a preflight: not a body type we accept.
  app.removeContentTypeParser('text/plain')
  registerBodilessMethods(app)
  registerBrowserGuard(app, options.host, options.allowOrigins)
  const spools = new SpoolRoot(options.spoolDir)
  registerMultipartParser(
    app,
    {
      bodyLimit: options.multipartLimit,
      jsonLimit: options.bodyLimit,
      memoryThreshold: options.spoolThreshold,
    },
    () => spools.create(),
  )
  registerErrorHandler(app, {
    bodyLimit: options.bodyLimit,
    multipartLimit: options.multipartLimit,
    retryAfterSeconds: options.retryAfterSeconds,
  })
  if (options.token !== undefined) registerAuth(app, options.token)
  if (options.docs) {
    await app.register(swagger, {
      openapi: {
        info: {
          title: 'comfy-remote worker',
          description: 'Runs one ComfyUI workflow behind the comfy-remote worker contract (mock worker).',
          version: '1',
        },
        components:
          options.token === undefined
            ? {}
            : { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
        security: options.token === undefined ? [] : [{ bearer: [] }],
      },
      transform: jsonSchemaTransform,
    })
    await app.register(swaggerUi, { routePrefix: '/docs' })
  }
  const engine = createEngine(options, {
    prompt: workflow.prompt,
    contract: workflow.contract,
    log: { info: (message) => app.log.info(message) },
  })
  const refPolicy: RefPolicy = {
    allowPrivate: options.allowPrivateRefs,
    allowHttp: options.allowHttpRefs,
    maxBytes: options.refMaxBytes,
    timeoutMs: options.refTimeoutMs,
    maxRedirects: 5,
  }
  if (options.refAddressFilter !== undefined) refPolicy.addressFilter = options.refAddressFilter
  const store = new JobStore({
    runner: runPrepared(engine, refPolicy),
    logger: app.log,
    concurrency: options.concurrency ?? (options.engine === 'comfyui' ? 2 : 4),
    maxQueue: options.maxQueue,
    maxJobs: options.maxJobs,
    resultTtlMs: options.resultTtlSeconds * 1000,
    maxStoredBytes: options.maxStoredBytes,
    maxStoredDiskBytes: options.maxStoredDiskBytes,
    maxActiveBytes: options.maxInputBytes,
    spools,
  })
  const webhooks = webhookSetup(options)
  const envelopeOf = (job: Job): WireEnvelope => ctx.envelope(job)
  const dispatcher =
    webhooks.config === undefined
      ? undefined
      : new WebhookDispatcher(webhooks.config, {
          envelope: envelopeOf,
          changed: (job) => store.touch(job),
          subscribe: (id, listener) => store.subscribe(id, listener),
          logger: app.log,
        })
  const ctx = createContext({
    webhooks,
    dispatcher,
    store,
    engine,
    contract: workflow.contract,
    maxWaitSeconds: options.maxWaitSeconds,
    admissionTimeoutMs: options.admissionTimeoutMs,
    retryAfterSeconds: options.retryAfterSeconds,
    heartbeatMs: options.heartbeatMs,
    refPolicy,
    auth: options.token === undefined ? 'none' : 'token',
    allowPickle: options.allowPickle,
  })
  const streams: OpenStreams = new Set()
  registerRunRoutes(app, ctx)
  registerJobRoutes(app, ctx)
  registerEventRoutes(app, ctx, streams)
  registerOutputRoutes(app, ctx)
  registerMetaRoutes(app, ctx)
  app.addHook('preClose', async () => {
    await store.drain(options.shutdownGraceMs)
    await dispatcher?.drain(Math.min(options.shutdownGraceMs, 5_000))
    for (const end of [...streams]) end()
  })
  app.addHook('onClose', async () => {
    store.close()
    spools.close()
    await engine.close()
  })
  return app
}

export interface StartedWorker {
  app: FastifyInstance
  /** Base URL, e.g. http://127.0.0.1:8787 */
  url: string
}

/** Build and listen on `host`:`port` (port 0 = any free port). */
export async function startWorker(input: WorkerOptions): Promise<StartedWorker> {
  const options = parseOptions(input)
  const app = await buildApp(input)
  try {
    await app.listen({ host: options.host, port: options.port })
  } catch (error) {
    await app.close()
    throw error
  }
  const address = app.server.address()
  const port = typeof address === 'object' && address !== null ? address.port : options.port
  const host = options.host.includes(':') ? `[${options.host}]` : options.host
  return { app, url: `http://${host}:${port}` }
}
