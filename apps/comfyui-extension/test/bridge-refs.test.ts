import { readFileSync } from 'node:fs'
import type { ServerResponse } from 'node:http'
import { decodeMultipart } from '@comfy-remote/protocol'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { killBridges, runBridge } from './helpers/bridge.js'
import { type Recorded, startServer } from './helpers/server.js'
import { cleanupWorkDirs, makeWorkDir, writeInput } from './helpers/values.js'

const clip = Uint8Array.from({ length: 600_000 }, (_, i) => (i * 31 + (i >> 9)) % 256)
const wav = Uint8Array.from({ length: 200_000 }, (_, i) => (i * 5) % 256)

let close: (() => Promise<void>) | undefined
afterEach(async () => {
  await close?.()
  close = undefined
})
afterAll(() => {
  killBridges()
  cleanupWorkDirs()
})

/** A worker that takes a VIDEO by multipart and answers it (and an AUDIO file) by reference only. */
async function refWorker() {
  let received: Record<string, { mime?: string; data: Uint8Array }> = {}
  let outputRefs: unknown
  const server = await startServer((req, res) => void handle(req, res))
  function handle(req: Recorded, res: ServerResponse): unknown {
    const json = (status: number, body: unknown) =>
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))
    if (req.url === '/health') return json(200, { transports: ['json', 'multipart'] })
    if (req.method === 'POST' && req.url === '/run') {
      const message = decodeMultipart(req.body, String(req.headers['content-type'])) as {
        inputs: typeof received
        output_refs?: unknown
      }
      received = message.inputs
      outputRefs = message.output_refs
      return json(200, {
        status: 'completed',
        job_id: 'j1',
        outputs: {
          video: {
            type: 'VIDEO',
            encoding: 'file',
            mime: 'video/webm',
            ref: '/jobs/j1/outputs/video',
            bytes: clip.byteLength,
          },
          audio: {
            type: 'AUDIO',
            encoding: 'file',
            mime: 'audio/flac',
            ref: '/jobs/j1/outputs/audio',
            bytes: wav.byteLength,
          },
        },
      })
    }
    if (req.url === '/jobs/j1/outputs/video' && req.headers.authorization === 'Bearer t0k')
      return res.writeHead(200, { 'content-length': clip.byteLength }).end(received.clip?.data)
    if (req.url === '/jobs/j1/outputs/audio' && req.headers.authorization === 'Bearer t0k')
      return res.writeHead(200, { 'content-length': wav.byteLength }).end(wav)
    return json(404, { status: 'failed', error: { code: 'NOT_FOUND', message: String(req.url) } })
  }
  close = server.close
  return { url: server.url, received: () => received, outputRefs: () => outputRefs }
}

describe('bridge: files in, refs out (no payload through the bridge memory as base64)', () => {
  it('streams a VIDEO input file to the worker and writes outputs sent by reference into workDir', async () => {
    const worker = await refWorker()
    const workDir = makeWorkDir()
    const file = writeInput(workDir, 'in-clip.webm', clip)
    const { code, events, stderr } = await runBridge({
      op: 'run',
      url: worker.url,
      token: 't0k',
      timeout: 20,
      pollInterval: 0.05,
      inputs: { clip: { type: 'VIDEO', encoding: 'file', mime: 'video/webm', data: { file } } },
      workDir,
      transport: 'auto',
    })
    expect(code, `${stderr}\n${JSON.stringify(events)}`).toBe(0)
    expect(worker.outputRefs()).toBe(true)
    expect(worker.received().clip?.mime).toBe('video/webm')
    expect(Buffer.from(worker.received().clip!.data).equals(Buffer.from(clip))).toBe(true)
    const result = events.at(-1) as unknown as {
      outputs: Record<string, { mime: string; data: { file: string } }>
    }
    const video = result.outputs.video!
    const audio = result.outputs.audio!
    expect(video.data.file).toMatch(new RegExp(`^${workDir}/out-video[^/]*\\.webm$`))
    expect(audio.data.file).toMatch(new RegExp(`^${workDir}/out-audio[^/]*\\.flac$`))
    expect(video.mime).toBe('video/webm')
    expect(readFileSync(video.data.file).equals(Buffer.from(clip))).toBe(true)
    expect(readFileSync(audio.data.file).equals(Buffer.from(wav))).toBe(true)
    expect(result.outputs.video).not.toHaveProperty('ref')
  })
})
