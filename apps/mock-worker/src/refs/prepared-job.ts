import type { Engine } from '../engines/types.js'
import type { Runner } from '../job.js'
import { type RefInput, resolveRefInputs } from './input-refs.js'
import type { RefPolicy } from './safe-fetch.js'

/** What POST /run hands the store: the engine's prepared job and the inputs still to fetch. */
export interface PreparedJob {
  prepared: unknown
  refs: RefInput[]
}

/** The store's runner: fetch the job's ref inputs into its spool (in the job, not the request), then run. */
export function runPrepared(engine: Engine, policy: RefPolicy): Runner {
  return async (job, ctx) => {
    const { prepared, refs } = job.payload as PreparedJob // read before the first await: the store drops it
    if (refs.length > 0) {
      ctx.admitted() // accepted: fetching the refs is part of the job
      await resolveRefInputs(refs, ctx.spool, policy, ctx.signal)
    }
    return engine.run(prepared, ctx)
  }
}
