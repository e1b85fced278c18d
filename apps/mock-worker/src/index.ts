export { assertSafeHost, buildApp, type StartedWorker, startWorker } from './app.js'
export { isLoopbackHost, tokenMatches } from './auth.js'
export { type ComfyuiOptions, createComfyuiEngine } from './engines/comfyui.js'
export { createEchoEngine, type EchoOptions, findUpstreamInput } from './engines/echo.js'
export type { Engine, EngineContext, EngineHealth } from './engines/types.js'
export { httpStatusForCode, isMockWorkerError, MockWorkerError, type MockWorkerErrorCode } from './errors.js'
export type { Job, JobError, JobProgress, JobStatus, RunContext, WireEnvelope } from './job.js'
export { valueBytes, valuesBytes } from './job-bytes.js'
export { JobStore, type JobStoreOptions, type JobStoreStats } from './job-store.js'
export { defaultObjectInfo, fetchObjectInfo } from './object-info.js'
export { parseOptions, type ResolvedOptions, type WorkerOptions, zWorkerOptions } from './options.js'
export { formatContract } from './table.js'
export {
  isUiWorkflow,
  type LoadedWorkflow,
  type LoadWorkflowOptions,
  loadWorkflowFile,
  prepareWorkflow,
  type WorkflowContract,
} from './workflow.js'
