export { base64ByteLength, base64ToBytes, bytesToBase64 } from './base64.js'
export { parseEnvelope, toWireEnvelope } from './envelope.js'
export {
  isProtocolError,
  ProtocolError,
  type ProtocolErrorCode,
  type ProtocolErrorOptions,
} from './errors.js'
export { bfloat16BitsToNumber, bitsToFloat32, halfBitsToNumber, numberToBfloat16Bits } from './float-bits.js'
export { serializeJson } from './json.js'
export { assertJsonDepth, jsonDepth, MAX_JSON_DEPTH } from './json-depth.js'
export { JSON_SCHEMA_SOURCES, type JsonSchemaName, toJsonSchemas } from './json-schema.js'
export {
  ACCEPT_MULTIPART,
  acceptsMultipart,
  isMultipartContentType,
  JSON_PART_NAME,
  MEDIA_TYPE_JSON,
  MEDIA_TYPE_MULTIPART,
  MEDIA_TYPE_OCTET_STREAM,
  TRANSPORTS,
  type Transport,
} from './media.js'
export {
  attachParts,
  decodeMultipart,
  type MultipartPart,
  multipartBoundary,
  type PartHead,
  parseMultipart,
  parsePartHead,
} from './multipart-decode.js'
export {
  type EncodeMultipartOptions,
  encodeMultipart,
  encodeMultipartChunks,
  encodeMultipartPieces,
  type MultipartBody,
  type MultipartChunks,
  type MultipartPiece,
  type MultipartPieces,
} from './multipart-encode.js'
export { decodeNpy, encodeNpy, type NdArray, type NpyLayout, readNpyLayout } from './npy.js'
export { DTYPES, type TypedArray } from './npy-dtypes.js'
export { NPY_MAX_HEADER_BYTES } from './npy-header.js'
export { checkPngHead, decodePng, encodePng, PNG_MAX_PIXELS } from './png.js'
export { toResultValue } from './result.js'
export { parseEncodedValue, parseRunRequest } from './run-request.js'
export * from './schemas.js'
export { normalizeProgress, normalizeStatus } from './status.js'
export {
  decodeValue,
  type EncodeValueOptions,
  encodeValue,
  type FileValue,
  isFileValue,
  isNdArray,
} from './value.js'
