/**
 * A streamed request body sent with node:http(s) instead of fetch: Node 20's fetch (undici) reads a
 * streamed body as fast as it can produce, whatever the socket drains, so a 1 GiB upload to a
 * slower server sits in memory; `pipe` into a ClientRequest honours backpressure, so memory stays
 * bounded. Answers a standard Response (body streamed), like fetch.
 */
export async function nodeUpload(
  url: string,
  init: {
    method: string
    headers: Record<string, string>
    body: AsyncIterable<Uint8Array>
    signal: AbortSignal
    length?: number
  },
): Promise<Response> {
  const [http, https, { Readable }] = await Promise.all([
    import('node:http'),
    import('node:https'),
    import('node:stream'),
  ])
  const target = new URL(url)
  const request = target.protocol === 'https:' ? https.request : http.request
  const headers: Record<string, string> = { ...init.headers }
  if (init.length !== undefined) headers['content-length'] = String(init.length)
  return await new Promise<Response>((resolve, reject) => {
    const req = request(target, { method: init.method, headers, signal: init.signal }, (res) => {
      const answer = new Headers()
      for (const [key, value] of Object.entries(res.headers)) {
        if (value === undefined) continue
        for (const v of Array.isArray(value) ? value : [value]) answer.append(key, v)
      }
      const status = res.statusCode ?? 502
      const empty = status === 204 || status === 304 || init.method === 'HEAD'
      const body = empty ? null : (Readable.toWeb(res) as unknown as ReadableStream<Uint8Array>)
      if (empty) res.resume()
      resolve(new Response(body, { status, statusText: res.statusMessage ?? '', headers: answer }))
    })
    req.on('error', reject)
    // bytes, not objects, and no read-ahead: the next chunk is read when the socket has taken the last
    const source = Readable.from(init.body, { objectMode: false, highWaterMark: 0 })
    source.on('error', (error) => req.destroy(error))
    source.pipe(req)
  })
}
