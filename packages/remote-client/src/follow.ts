import type { JobEnvelope, JobStatus } from '@comfy-remote/protocol'
import type { Capabilities, Core } from './core.js'
import { isRemoteJobError, RemoteJobError } from './errors.js'
import { joinUrl } from './options.js'
import type { OutputFiles } from './refs.js'
import { sleep } from './retry.js'
import type { CallScope } from './scope.js'

export interface ProgressInfo {
  value: number
  max: number
  message?: string
  /** The remote node the progress is about (id) and its class, e.g. "3" / "KSampler". */
  node?: string
  classType?: string
}

/** A live preview image of the remote run (a sampler's intermediate image). */
export interface PreviewInfo {
  node?: string
  classType?: string
  /** image/jpeg or image/png */
  mime: string
  data: Uint8Array
}

export interface FollowHooks {
  onProgress?: (progress: ProgressInfo) => void
  /**
   * Live previews (server-sent events only: at most 4 per second, newest wins). Asking for them
   * adds `?previews=1` to the event stream; without the hook none are sent.
   */
  onPreview?: (preview: PreviewInfo) => void
  /** Called when the status or the queue position changes. */
  onStatus?: (status: JobStatus, envelope: JobEnvelope) => void
}

const TERMINAL: ReadonlySet<JobStatus> = new Set(['completed', 'failed', 'cancelled'])

export function isTerminal(status: JobStatus): boolean {
  return TERMINAL.has(status)
}

/** Calls the hooks when status or progress changed; remembers what it last reported. */
export function createReporter(hooks: FollowHooks): (env: JobEnvelope) => boolean {
  let status: JobStatus | undefined
  let queue: number | undefined
  let last: ProgressInfo | undefined
  return (env) => {
    let changed = false
    if (env.status !== status || env.queuePosition !== queue) {
      status = env.status
      queue = env.queuePosition
      changed = true
      hooks.onStatus?.(env.status, env)
    }
    const p = env.progress
    // A message that disappears (the final envelope often has none) is not news.
    const fresh =
      p &&
      (!last ||
        p.value !== last.value ||
        p.max !== last.max ||
        (env.node !== undefined && env.node.id !== last.node) ||
        (env.message !== undefined && env.message !== last.message))
    if (p && fresh) {
      last =
        env.message === undefined
          ? { value: p.value, max: p.max }
          : { value: p.value, max: p.max, message: env.message }
      if (env.node !== undefined) {
        last.node = env.node.id
        if (env.node.classType !== undefined) last.classType = env.node.classType
      }
      changed = true
      hooks.onProgress?.(last)
    }
    return changed
  }
}

/** Resolves a terminal envelope into the run's outcome. */
export function settle(env: JobEnvelope): JobEnvelope {
  if (env.status === 'completed') return env
  const id = env.jobId ? ` ${env.jobId}` : ''
  const detail = env.error ? `${env.error.code}: ${env.error.message}` : 'no reason given'
  if (env.status === 'cancelled')
    throw new RemoteJobError('CANCELLED', `remote job${id} was cancelled (${detail})`, { envelope: env })
  throw new RemoteJobError('FAILED', `remote job${id} failed (${detail})`, { envelope: env })
}

interface FollowState {
  env: JobEnvelope
  sseBroken: boolean
}

/** Follows a job from its first envelope to its end: SSE, else long-poll, else polling. */
export async function follow(
  core: Core,
  first: JobEnvelope,
  caps: Capabilities,
  scope: CallScope,
  report: (env: JobEnvelope) => boolean,
  spool?: OutputFiles,
  onPreview?: (preview: PreviewInfo) => void,
): Promise<JobEnvelope> {
  const { options } = core
  const state: FollowState = { env: first, sseBroken: false }
  report(first)
  while (!isTerminal(state.env.status)) {
    const { env } = state
    const useSse =
      caps.v1 &&
      env.jobId !== undefined &&
      !state.sseBroken &&
      (options.follow === 'auto' || options.follow === 'events')
    if (useSse && env.jobId !== undefined) {
      await followEvents(core, env.jobId, scope, report, state, onPreview)
      continue
    }
    const url =
      env.pollUrl ??
      (caps.v1 && env.jobId ? joinUrl(options.url, `jobs/${encodeURIComponent(env.jobId)}`) : undefined)
    if (url === undefined) {
      throw new RemoteJobError(
        'MALFORMED_RESPONSE',
        `the server answered status "${env.status}" without a poll_url or job_id, so the job cannot be followed`,
        { envelope: env },
      )
    }
    const longPoll =
      caps.v1 && (options.follow === 'auto' || options.follow === 'long-poll' || options.follow === 'events')
    const delay = env.retryAfter !== undefined ? env.retryAfter * 1000 : options.pollInterval
    if (!longPoll) await sleepScoped(delay, scope)
    const started = Date.now()
    const next = await core.poll(
      url,
      longPoll
        ? Math.max(0, Math.min(options.longPollWait, Math.floor(scope.remaining() / 1000)))
        : undefined,
      scope,
      caps,
      spool,
    )
    const keep = dropUndefined({
      ...next,
      pollUrl: next.pollUrl ?? env.pollUrl,
      jobId: next.jobId ?? env.jobId,
    })
    const changed = report(keep)
    state.env = keep
    // A server that ignores ?wait= answers at once: do not turn that into a busy loop.
    if (longPoll && !changed && !isTerminal(keep.status))
      await sleepScoped(delay - (Date.now() - started), scope)
  }
  return await complete(core, state.env, caps, scope, spool)
}

function dropUndefined(env: JobEnvelope): JobEnvelope {
  const out = { ...env } as Record<string, unknown>
  for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k]
  return out as JobEnvelope
}

async function sleepScoped(ms: number, scope: CallScope): Promise<void> {
  if (ms <= 0) return
  try {
    await sleep(Math.min(ms, scope.remaining()), scope.signal)
  } catch {
    const ended = scope.endError('the job')
    if (ended) throw ended
  }
}

async function followEvents(
  core: Core,
  jobId: string,
  scope: CallScope,
  report: (env: JobEnvelope) => boolean,
  state: FollowState,
  onPreview?: (preview: PreviewInfo) => void,
): Promise<void> {
  try {
    for await (const env of core.events(jobId, scope, onPreview)) {
      const merged = {
        ...env,
        jobId: env.jobId ?? jobId,
        ...((env.pollUrl ?? state.env.pollUrl) ? { pollUrl: env.pollUrl ?? state.env.pollUrl } : {}),
      }
      report(merged)
      state.env = merged
      if (isTerminal(env.status)) return
    }
    // The stream ended before the job did (server restart, proxy cut): continue by polling.
    state.sseBroken = true
  } catch (error) {
    const ended = scope.endError('the job')
    if (ended) throw ended
    if (isRemoteJobError(error) && error.code === 'UNAUTHORIZED') throw error
    state.sseBroken = true
  }
}

/** A completed envelope without values (SSE may leave them out): fetch the job once more. */
async function complete(
  core: Core,
  env: JobEnvelope,
  caps: Capabilities,
  scope: CallScope,
  spool?: OutputFiles,
): Promise<JobEnvelope> {
  if (env.status !== 'completed' || env.result !== undefined || env.outputs !== undefined) return settle(env)
  const url =
    env.pollUrl ??
    (caps.v1 && env.jobId ? joinUrl(core.options.url, `jobs/${encodeURIComponent(env.jobId)}`) : undefined)
  if (url === undefined) return env
  const full = await core.poll(url, undefined, scope, caps, spool)
  return settle({
    ...full,
    jobId: full.jobId ?? env.jobId,
    ...((full.pollUrl ?? env.pollUrl) ? { pollUrl: full.pollUrl ?? env.pollUrl } : {}),
  } as JobEnvelope)
}
