import type { JobEnvelope } from '@comfy-remote/protocol'
import type { PreviewInfo } from '@comfy-remote/remote-client'
import type { BridgeStatus } from './events.js'
import type { WireValue } from './request.js'

/** The parts of @comfy-remote/remote-client the bridge uses, adapted to bridge events. */
export interface BridgeClient {
  run(
    inputs: Record<string, WireValue>,
    hooks: {
      signal: AbortSignal
      /** Outputs sent by reference are streamed into files in this folder. */
      outputFiles?: { dir: string }
      /** Outputs sent by reference stay refs (absolute URLs) for the caller to fetch (`refRequest`). */
      keepRefs?: boolean
      onProgress(p: {
        value: number
        max: number
        message?: string | null
        node?: string
        classType?: string
      }): void
      /** Live previews (asks the worker for them); leave it out to get none. */
      onPreview?(p: PreviewInfo): void
      onStatus(s: { status: BridgeStatus; jobId: string | null; queuePosition: number | null }): void
    },
  ): Promise<JobEnvelope>
  schema(): Promise<unknown>
  /** An output ref's absolute URL and the headers to fetch it with (the token on the endpoint's origin only). */
  refRequest(ref: string): { url: string; headers: Record<string, string> }
}

export interface ClientOptions {
  url: string
  token: string | null
  /** Seconds. */
  timeout: number
  /** Seconds. */
  pollInterval: number
  transport: 'auto' | 'json'
  /** Retries of one request (default: remote-client's). The UI's schema lookup keeps this small. */
  retries?: number
}

/**
 * Clients of the last minute by their options: a client asks the endpoint what it speaks (`GET
 * /health`) once, so calls in a row skip that round trip (the persistent bridge serves every call).
 */
const recent = new Map<string, { at: number; client: BridgeClient }>()
const REUSE_MS = 60_000
const RECENT_MAX = 8

/** The remote-client for these options: a recent one, or a new one (see `recent`). */
export async function openClient(opts: ClientOptions): Promise<BridgeClient> {
  const key = JSON.stringify([
    opts.url,
    opts.token,
    opts.timeout,
    opts.pollInterval,
    opts.transport,
    opts.retries,
  ])
  const now = Date.now()
  const known = recent.get(key)
  if (known !== undefined && now - known.at < REUSE_MS) return known.client
  const client = await createClient(opts)
  recent.delete(key)
  recent.set(key, { at: now, client })
  if (recent.size > RECENT_MAX) recent.delete(recent.keys().next().value as string)
  return client
}

/** Creates the remote-client (a lazy import keeps `ping` fast). Times are seconds here, ms in remote-client. */
async function createClient(opts: ClientOptions): Promise<BridgeClient> {
  const { createRemoteClient } = await import('@comfy-remote/remote-client')
  const client = createRemoteClient({
    url: opts.url,
    ...(opts.token ? { token: opts.token } : {}),
    timeout: Math.max(1, Math.round(opts.timeout * 1000)),
    pollInterval: Math.max(10, Math.round(opts.pollInterval * 1000)),
    transport: opts.transport,
    ...(opts.retries === undefined ? {} : { retry: { retries: opts.retries, maxDelay: 1000 } }),
  })
  return {
    run: (inputs, hooks) =>
      client.run(inputs as never, {
        signal: hooks.signal,
        ...(hooks.outputFiles ? { outputFiles: hooks.outputFiles } : {}),
        ...(hooks.keepRefs ? { keepRefs: true } : {}),
        onProgress: (p) => hooks.onProgress(p),
        ...(hooks.onPreview ? { onPreview: hooks.onPreview } : {}),
        onStatus: (status, env) =>
          hooks.onStatus({ status, jobId: env.jobId ?? null, queuePosition: env.queuePosition ?? null }),
      }),
    schema: () => client.schema(),
    refRequest: (ref) => client.refRequest(ref),
  }
}
