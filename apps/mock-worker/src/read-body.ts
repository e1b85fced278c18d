import { errorCodes } from 'fastify'

/** A request body stream as Fastify hands it to a content-type parser. */
export type BodyStream = NodeJS.ReadableStream & { receivedEncodedLength?: number }

/**
 * Reads a request body into bytes, enforcing `limit` like Fastify's own `parseAs: 'buffer'`
 * (FST_ERR_CTP_BODY_TOO_LARGE, FST_ERR_CTP_INVALID_CONTENT_LENGTH). With a Content-Length the
 * chunks are copied into one buffer of that size as they arrive, so the peak is the body plus one
 * chunk (collecting the chunks and concatenating them at the end holds the body twice).
 */
export function readRequestBody(
  payload: BodyStream,
  contentLength: string | undefined,
  limit: number,
): Promise<Uint8Array> {
  const declared = contentLength === undefined ? Number.NaN : Number(contentLength)
  if (declared > limit) return Promise.reject(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE())
  const exact = Number.isSafeInteger(declared) && declared >= 0
  return new Promise((resolve, reject) => {
    const into = exact ? new Uint8Array(declared) : undefined
    const chunks: Uint8Array[] = []
    let received = 0
    const stop = (): void => {
      payload.removeListener('data', onData)
      payload.removeListener('end', onEnd)
      payload.removeListener('error', onEnd)
    }
    function onData(chunk: Buffer | string): void {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
      const next = received + bytes.byteLength
      if (next > limit || (payload.receivedEncodedLength ?? 0) > limit) {
        stop()
        reject(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE())
        return
      }
      if (into !== undefined && next <= into.byteLength) into.set(bytes, received)
      else if (into === undefined) chunks.push(bytes)
      received = next // more than declared: rejected at the end as an invalid Content-Length
    }
    function onEnd(error?: Error & { statusCode?: number }): void {
      stop()
      if (error != null) {
        if (!(typeof error.statusCode === 'number' && error.statusCode >= 400)) error.statusCode = 400
        reject(error)
        return
      }
      if (exact && (payload.receivedEncodedLength || received) !== declared) {
        reject(new errorCodes.FST_ERR_CTP_INVALID_CONTENT_LENGTH())
        return
      }
      resolve(into ?? (chunks.length === 1 ? (chunks[0] as Uint8Array) : Buffer.concat(chunks, received)))
    }
    payload.on('data', onData)
    payload.on('end', onEnd)
    payload.on('error', onEnd)
    payload.resume()
  })
}
