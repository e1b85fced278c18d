export type { OriginalRunRequest, RunInputs } from './body.js'
export type {
  CallOptions,
  Health,
  RemoteClient,
  RunOptions,
  StatusOptions,
  SubmitOptions,
  WebhookRequest,
} from './client.js'
export { createRemoteClient } from './client.js'
export type { Capabilities } from './core.js'
export type { CliErrorCode, RemoteErrorCode, RemoteJobErrorOptions } from './errors.js'
export { CliError, isCliError, isRemoteJobError, RemoteJobError } from './errors.js'
export { filePathOf, openFileBlob } from './file-blob.js'
export type { FollowHooks, PreviewInfo, ProgressInfo } from './follow.js'
export { extensionFor, mimeForFileName, typeForMime } from './media-types.js'
export type { FollowMode, RemoteClientOptions, RetryOptions, Transport } from './options.js'
export { type OutputFiles, safeStem } from './refs.js'
export type { ParseSseOptions, SseEvent } from './sse.js'
export { parseSse, SseIdleError } from './sse.js'
export type { VerifiedWebhook, VerifyWebhookOptions, WebhookErrorCode } from './webhook.js'
export { isWebhookVerificationError, verifyWebhook, WebhookVerificationError } from './webhook.js'
