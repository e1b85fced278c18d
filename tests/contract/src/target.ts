/** A worker under test: its base URL and what the suite may expect of it beyond the common rules. */
export interface Target {
  name: string
  /** Base URL, no trailing slash. */
  url: string
  /** Bearer token the worker requires (every route but /health); undefined: the worker has no auth. */
  token?: string
  /** Request body limit the worker was started with, in bytes (the 413 rule is checked just above it). */
  bodyLimit?: number
  /**
   * The worker runs jobs on a ComfyUI (comfyui engine, generated app): progress is 0..100 with the running
   * node named, validation and execution errors come from ComfyUI.
   */
  comfyui?: {
    /** POST /interrupt requests the ComfyUI received so far (to see that cancel reached it). */
    interrupts?: () => number
  }
  /**
   * The ComfyUI behind the worker fails a job whose `label` input contains `CONTRACT_FAIL` (execution
   * error at the label's Remote Input) and rejects one whose `label` contains `CONTRACT_INVALID` with a
   * recorded validation error (node 3, ImageBlur, input blur_radius).
   */
  injectsFailures?: boolean
  /** Jobs run long enough (about 1 s) that a cancel lands while they run. */
  slowJobs?: boolean
  /**
   * A local worker (mock worker, `comfy-remote-modal serve`): requests from another web page's origin
   * are refused with 403 FORBIDDEN_ORIGIN.
   */
  browserGuard?: boolean
}

export const FAIL_MARK = 'CONTRACT_FAIL'
export const INVALID_MARK = 'CONTRACT_INVALID'
