/** Media types and transport names of the wire protocol. */
export const MEDIA_TYPE_JSON = 'application/json'
export const MEDIA_TYPE_MULTIPART = 'multipart/form-data'
export const MEDIA_TYPE_OCTET_STREAM = 'application/octet-stream'
/** The `Accept` header a client sends to get multipart back when the server offers it. */
export const ACCEPT_MULTIPART = 'multipart/form-data, application/json'
/** What `/health` and `/schema` advertise in `transports`. */
export const TRANSPORTS = ['json', 'multipart'] as const
export type Transport = (typeof TRANSPORTS)[number]
/** Name of the multipart part that holds the JSON message. */
export const JSON_PART_NAME = 'json'

function essence(value: string): string {
  return (value.split(';')[0] ?? '').trim().toLowerCase()
}

/** True when a Content-Type header means multipart/form-data. */
export function isMultipartContentType(contentType: string | null | undefined): boolean {
  return typeof contentType === 'string' && essence(contentType) === MEDIA_TYPE_MULTIPART
}

/** True when an Accept header asks for multipart/form-data (with q > 0). */
export function acceptsMultipart(accept: string | null | undefined): boolean {
  if (typeof accept !== 'string') return false
  return accept.split(',').some((entry) => {
    const [type, ...params] = entry.split(';')
    if ((type ?? '').trim().toLowerCase() !== MEDIA_TYPE_MULTIPART) return false
    const q = params.map((p) => p.trim()).find((p) => p.toLowerCase().startsWith('q='))
    return q === undefined || Number(q.slice(2)) > 0
  })
}
