export { BridgeError, type BridgeErrorCode, describeError, isBridgeError } from './errors.js'
export { type BridgeEvent, type BridgeStatus, createEventSink, type EventSink } from './events.js'
export { loadInputValues, outputFileStem, storeOutputValues } from './files.js'
export { BRIDGE_VERSION, main } from './main.js'
export {
  type BridgeRequest,
  type DeployRequest,
  type PingRequest,
  parseRequest,
  type RunRequest,
  type SchemaRequest,
  type WireValue,
} from './request.js'
