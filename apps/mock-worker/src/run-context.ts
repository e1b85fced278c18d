import { isTerminal, type Job, type RunContext } from './job.js'

/** What a run context needs from the store: report a visible change, log a status change. */
export interface RunContextHooks {
  changed(job: Job): void
  log(job: Job, msg: string): void
}

/** The RunContext an engine gets for `job`: admitted / running / progress update the job. */
export function createRunContext(job: Job, signal: AbortSignal, hooks: RunContextHooks): RunContext {
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
    progress: (value, max, message) => {
      if (isTerminal(job.status)) return
      const p = job.progress
      if (p.value === value && p.max === max && p.message === message) return
      job.progress = message === undefined ? { value, max } : { value, max, message }
      if (job.status === 'pending') ctx.running()
      else hooks.changed(job)
    },
  }
  return ctx
}
