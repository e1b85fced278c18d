/** One server-sent event. */
export interface SseEvent {
  event: string
  data: string
  id?: string
  retry?: number
}

/**
 * Parses a text/event-stream body (WHATWG rules: `field: value` lines, blank line ends an event,
 * `:` comments ignored, CR/LF/CRLF line ends). Yields events as they complete.
 */
export interface ParseSseOptions {
  /** Fail with SseIdleError when no byte (event or comment) arrives for this many ms. */
  idleMs?: number
}

/** The stream went quiet for longer than `idleMs` (a buffering proxy, a dead connection). */
export class SseIdleError extends Error {
  override readonly name = 'SseIdleError'
}

function readWithin<T>(read: Promise<T>, ms: number | undefined): Promise<T> {
  if (ms === undefined || !Number.isFinite(ms)) return read
  let timer: ReturnType<typeof setTimeout> | undefined
  const idle = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new SseIdleError(`no event-stream data for ${ms} ms`)), ms)
  })
  return Promise.race([read, idle]).finally(() => clearTimeout(timer))
}

export async function* parseSse(
  body: ReadableStream<Uint8Array>,
  options: ParseSseOptions = {},
): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder()
  const reader = body.getReader()
  let buffer = ''
  let data: string[] = []
  let event = ''
  let id: string | undefined
  let retry: number | undefined
  const flush = (): SseEvent | undefined => {
    if (data.length === 0) {
      event = ''
      return undefined
    }
    const out: SseEvent = { event: event || 'message', data: data.join('\n') }
    if (id !== undefined) out.id = id
    if (retry !== undefined) out.retry = retry
    data = []
    event = ''
    return out
  }
  try {
    for (;;) {
      const { value, done } = await readWithin(reader.read(), options.idleMs)
      buffer += done ? decoder.decode() : decoder.decode(value, { stream: true })
      for (;;) {
        const match = /\r\n|\r|\n/.exec(buffer)
        // A lone trailing CR may be the first half of CRLF: wait for more input.
        if (!match || (match[0] === '\r' && match.index === buffer.length - 1 && !done)) break
        const line = buffer.slice(0, match.index)
        buffer = buffer.slice(match.index + match[0].length)
        if (line === '') {
          const complete = flush()
          if (complete) yield complete
          continue
        }
        if (line.startsWith(':')) continue
        const colon = line.indexOf(':')
        const field = colon === -1 ? line : line.slice(0, colon)
        let text = colon === -1 ? '' : line.slice(colon + 1)
        if (text.startsWith(' ')) text = text.slice(1)
        if (field === 'data') data.push(text)
        else if (field === 'event') event = text
        else if (field === 'id') id = text
        else if (field === 'retry' && /^\d+$/.test(text)) retry = Number(text)
      }
      if (done) return
    }
  } finally {
    reader.cancel().catch(() => undefined)
  }
}
