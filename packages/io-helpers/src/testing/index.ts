export { type AppModeFixture, appModeFixture, appModeFixturePath } from './app-mode-fixtures.js'
export type { RecordedExchange, RecordedWsLine } from './fixtures.js'
export {
  fixturesDir,
  readFixtureBytes,
  readFixtureJson,
  readFixtureText,
  readWsTranscript,
  recordedObjectInfo,
  recordedPrompt,
} from './fixtures.js'
export type { FakeReply, RecordedRequest } from './http-util.js'
export { executionOrder } from './order.js'
export { pyJsonDumps } from './py-json.js'
export type { RecordedFailure } from './recordings.js'
export type { FakeComfyUI, FakeComfyUIOptions } from './server.js'
export { createFakeComfyUI } from './server.js'
export type { HistoryRecord, QueueItem } from './state.js'
export type { ComfyError, NodeErrors, ValidationResult } from './validate.js'
