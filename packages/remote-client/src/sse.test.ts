import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseSse, type SseEvent } from './sse.js'

function streamOf(chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder()
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk))
      controller.close()
    },
  })
}

async function collect(chunks: string[]): Promise<SseEvent[]> {
  const out: SseEvent[] = []
  for await (const event of parseSse(streamOf(chunks))) out.push(event)
  return out
}

describe('parseSse', () => {
  it('reads data, event, id and retry fields, skips comments and joins multi-line data', async () => {
    const events = await collect([
      ': hi\n\nretry: 1000\n\nid: 3\nevent: envelope\ndata: {"a":\ndata: 1}\n\ndata: x\n\n',
    ])
    expect(events).toEqual([
      { event: 'envelope', data: '{"a":\n1}', id: '3', retry: 1000 },
      { event: 'message', data: 'x', id: '3', retry: 1000 },
    ])
  })

  it.each([
    ['LF', 'data: a\n\ndata: b\n\n'],
    ['CRLF', 'data: a\r\n\r\ndata: b\r\n\r\n'],
    ['CR', 'data: a\r\rdata: b\r\r'],
  ])('accepts %s line ends', async (_name, text) => {
    expect((await collect([text])).map((e) => e.data)).toEqual(['a', 'b'])
  })

  it('drops an unterminated last event', async () => {
    expect(await collect(['data: a\n\ndata: b'])).toEqual([{ event: 'message', data: 'a' }])
  })

  it('gives the same events however the bytes are split', async () => {
    const text = 'id: 1\ndata: {"status":"running"}\r\n\r\n: ping\n\nevent: e\ndata: two\ndata: lines\n\n'
    const whole = await collect([text])
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: text.length }), { maxLength: 8 }), async (cuts) => {
        const points = [...new Set(cuts)].sort((a, b) => a - b)
        const chunks: string[] = []
        let last = 0
        for (const p of points) {
          chunks.push(text.slice(last, p))
          last = p
        }
        chunks.push(text.slice(last))
        expect(await collect(chunks)).toEqual(whole)
      }),
      { numRuns: 60 },
    )
  })
})
