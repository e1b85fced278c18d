import { isTerminal, type Job, type JobProgress, type RunContext } from './job.js'
import { PreviewThrottle } from './previews.js'

/** What a run context needs from the store: report a visible change, log a status change. */
export interface RunContextHooks {
  changed(job: Job): void
  log(job: Job, msg: string): void
  /** A new preview was published (job.preview). */
  previewed(job: Job): void
}

/** The RunContext an engine gets for `job`: admitted / running / progress update the job. */
export function createRunContext(job: Job, signal: AbortSignal, hooks: RunContextHooks): RunContext {
  const throttle = new PreviewThrottle((preview) => {
    if (isTerminal(job.status)) return
    job.preview = preview
    hooks.previewed(job)
  })
  signal.addEventListener('abort', () => throttle.close(), { once: true })
  const ctx: RunContext = {
    jobId: job.id,
    signal,
    spool: job.spool,
    admitted: () => {
      if (!job.admitted) {
        job.admitted = true
        hooks.changed(job)
      }
    },
    running: () => {
      if (job.status !== 'pending') return
      job.status = 'running'
      job.admitted = true
      job.runningAt = Date.now()
      hooks.log(job, 'job running')
      hooks.changed(job)
    },
    progress: (value, max, message, node) => {
      if (isTerminal(job.status)) return
      const p = job.progress
      if (
        p.value === value &&
        p.max === max &&
        p.message === message &&
        p.node === node?.id &&
        p.class_type === node?.classType
      )
        return
      const next: JobProgress = { value, max }
      if (message !== undefined) next.message = message
      if (node !== undefined) {
        next.node = node.id
        if (node.classType !== undefined) next.class_type = node.classType
      }
      job.progress = next
      if (job.status === 'pending') ctx.running()
      else hooks.changed(job)
    },
    preview: (preview) => {
      if (!isTerminal(job.status)) throttle.offer(preview)
    },
  }
  return ctx
}
