import { bytesToBase64 } from './base64.js'

/**
 * JSON.stringify for protocol messages: any Uint8Array (or Buffer) becomes a base64 string, so
 * binary `data` travels as the JSON transport expects. The only stringifier for messages that may
 * carry bytes.
 */
export function serializeJson(message: unknown, space?: number): string {
  return JSON.stringify(
    message,
    function (this: Record<string, unknown>, key: string, value: unknown) {
      const raw = key === '' ? value : this[key]
      return raw instanceof Uint8Array ? bytesToBase64(raw) : value
    },
    space,
  )
}
