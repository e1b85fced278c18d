export { dispatch } from './dispatch.js'
export { BridgeError, type BridgeErrorCode, describeError, isBridgeError } from './errors.js'
export {
  type BridgeEvent,
  type BridgeStatus,
  createEventSink,
  type EventSink,
  type TaggedEvent,
} from './events.js'
export { loadInputValues, outputFileStem, storeOutputValues } from './files.js'
export { BRIDGE_VERSION, main } from './main.js'
export {
  type BridgeRequest,
  type DeployRequest,
  type PingRequest,
  parseRequest,
  parseRequestValue,
  type RunRequest,
  type SchemaRequest,
  type WireValue,
} from './request.js'
export { type ServeOptions, serve } from './serve.js'
