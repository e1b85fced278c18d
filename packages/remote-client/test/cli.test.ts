import { spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { decodePng, encodeNpy, encodePng } from '@comfy-remote/protocol'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { CLI, runCli, startCli } from './helpers/cli.js'
import { json, startServer, type TestServer, until } from './helpers/server.js'
import { startV1Worker, type V1Worker } from './helpers/v1-worker.js'

let dir = ''
let worker: V1Worker | undefined
let server: TestServer | undefined
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'comfy-remote-cli-'))
})
afterEach(async () => {
  await worker?.close()
  await server?.close()
  worker = undefined
  server = undefined
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

function gradient(b: number, h: number, w: number): Float32Array {
  const data = new Float32Array(b * h * w * 3)
  for (let i = 0; i < data.length; i++) data[i] = (i % 256) / 255
  return data
}

describe('comfy-remote CLI (real process, real server)', () => {
  it('call: streams a video file in and writes outputs sent by reference with their extension', async () => {
    const clip = new Uint8Array(2_000_000).map((_, i) => (i * 31) % 256)
    const wav = new Uint8Array(70_000).map((_, i) => (i * 3) % 256)
    let received: Buffer | undefined
    server = await startServer((req, res) => {
      if (req.path === '/health') return json(res, 200, { transports: ['json', 'multipart'] })
      if (req.method === 'POST' && req.path === '/run') {
        const type = String(req.headers['content-type'])
        received = req.body
        expect(type).toMatch(/^multipart\/form-data/)
        return json(res, 200, {
          status: 'completed',
          job_id: 'j1',
          outputs: {
            video: {
              type: 'VIDEO',
              encoding: 'file',
              mime: 'video/mp4',
              ref: '/jobs/j1/outputs/video',
              bytes: clip.length,
            },
            sound: {
              type: 'AUDIO',
              encoding: 'file',
              mime: 'audio/wav',
              ref: '/jobs/j1/outputs/sound',
              bytes: wav.length,
            },
          },
        })
      }
      const bytes = req.path.endsWith('/video') ? clip : req.path.endsWith('/sound') ? wav : undefined
      if (bytes === undefined) return json(res, 404, { status: 'failed' })
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes.length })
      res.end(bytes)
    })
    const inPath = join(dir, 'in-clip.mp4')
    await writeFile(inPath, clip)
    const out = join(dir, 'out-media')
    const r = await runCli(['call', server.url, '--input', `clip=@${inPath}`, '--out', out, '-q'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout.trim().split('\n').sort()).toEqual([join(out, 'sound.wav'), join(out, 'video.mp4')])
    expect(Buffer.compare(await readFile(join(out, 'video.mp4')), Buffer.from(clip))).toBe(0)
    expect(Buffer.compare(await readFile(join(out, 'sound.wav')), Buffer.from(wav))).toBe(0)
    expect(received?.includes(Buffer.from('"mime":"video/mp4"'))).toBe(true)
    expect(received?.includes(Buffer.from(clip.subarray(0, 4096)))).toBe(true)
  })

  it('call: sends a PNG and a literal, shows progress, writes image.png and n.json', async () => {
    worker = await startV1Worker({ steps: 3 })
    const png = encodePng({ dtype: 'float32', shape: [1, 4, 5, 3], data: gradient(1, 4, 5) }).bytes
    const inPath = join(dir, 'in.png')
    await writeFile(inPath, png)
    const out = join(dir, 'out1')
    const r = await runCli([
      'call',
      worker.url,
      '--input',
      `image=@${inPath}`,
      '--input',
      'n=5',
      '--out',
      out,
      '--poll-interval',
      '0.02',
    ])
    expect(r.stderr).toMatch(/progress 1\/3/)
    expect(r.code).toBe(0)
    expect(r.stdout.trim().split('\n').sort()).toEqual([join(out, 'image.png'), join(out, 'n.json')])
    expect(Buffer.compare(await readFile(join(out, 'image.png')), Buffer.from(png))).toBe(0)
    expect(JSON.parse(await readFile(join(out, 'n.json'), 'utf8'))).toBe(5)
    const sent = worker.jobs.get('j1')?.inputs as Record<string, { type: string; encoding: string }>
    expect(sent.image).toMatchObject({ type: 'IMAGE', encoding: 'png' })
    expect(sent.n).toMatchObject({ type: 'INT', encoding: 'json', data: 5 })
  })

  it('call: an IMAGE batch becomes one PNG per item, other tensors .npy', async () => {
    worker = await startV1Worker({ steps: 1 })
    const batch = encodeNpy({ dtype: 'float32', shape: [2, 3, 4, 3], data: gradient(2, 3, 4) })
    const latent = encodeNpy({ dtype: 'float32', shape: [1, 4, 2, 2], data: new Float32Array(16) })
    await writeFile(join(dir, 'batch.npy'), batch)
    await writeFile(join(dir, 'latent.npy'), latent)
    const out = join(dir, 'out2')
    const r = await runCli([
      'call',
      worker.url,
      '-i',
      `image=@${join(dir, 'batch.npy')}`,
      '-i',
      `lat=@${join(dir, 'latent.npy')}`,
      '--out',
      out,
      '-q',
    ])
    expect(r.code).toBe(0)
    expect((await readdir(out)).sort()).toEqual(['image_0.png', 'image_1.png', 'lat.npy'])
    const second = decodePng(new Uint8Array(await readFile(join(out, 'image_1.png'))))
    expect(second.shape).toEqual([1, 3, 4, 3])
    expect(second.data[0]).toBeCloseTo(gradient(2, 3, 4)[36] ?? -1, 2)
    expect(Buffer.compare(await readFile(join(out, 'lat.npy')), Buffer.from(latent))).toBe(0)
    expect(r.stderr).toBe('')
  })

  it('call: a failed job exits 1 with a one-line reason; the token comes from COMFY_REMOTE_TOKEN', async () => {
    server = await startServer((req, res) => {
      if (req.headers.authorization !== 'Bearer s3cret')
        return json(res, 401, { status: 'failed', error: { code: 'UNAUTHORIZED', message: 'bad token' } })
      return json(res, 200, { status: 'error', error: 'CUDA out of memory' })
    })
    const denied = await runCli(['call', server.url, '--input', 'x=1'])
    expect(denied.code).toBe(1)
    expect(denied.stderr.trim().split('\n')).toHaveLength(1)
    expect(denied.stderr).toMatch(/UNAUTHORIZED/)
    const failed = await runCli(['call', server.url, '--input', 'x=1'], { COMFY_REMOTE_TOKEN: 's3cret' })
    expect(failed.code).toBe(1)
    expect(failed.stderr.trim().split('\n').at(-1)).toMatch(/^comfy-remote: FAILED: .*CUDA out of memory/)
  })

  it('rejects bad arguments with exit 2', async () => {
    const noInput = await runCli(['call', 'http://127.0.0.1:9'])
    expect(noInput.code).toBe(2)
    expect(noInput.stderr).toMatch(/--input/)
    const badFile = await runCli([
      'call',
      'http://127.0.0.1:9',
      '--input',
      `x=@${join(dir, 'missing.png')}`,
      '--timeout',
      '2',
    ])
    expect(badFile.code).toBe(2)
    expect(badFile.stderr).toMatch(/cannot read/)
    const help = await runCli(['--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toMatch(/comfy-remote call <url>/)
  })

  const ERASE = '\r\u001b[2K'
  // util-linux `script` gives the CLI a real pseudo-terminal
  const hasScript = spawnSync('script', ['--version']).status === 0
  it.skipIf(!hasScript)('call on a TTY redraws one progress bar line', async () => {
    worker = await startV1Worker({ steps: 4 })
    const out = join(dir, 'out-tty')
    const command = [process.execPath, CLI, 'call', worker.url, '--input', 'x=1', '--out', out]
      .map((a) => `'${a}'`)
      .join(' ')
    const child = spawn('script', ['-qfec', command, '/dev/null'], {
      env: { PATH: process.env.PATH ?? '', COLUMNS: '100' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString()
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
    const [status] = (await once(child, 'close')) as [number | null]
    clearTimeout(timer)
    expect(status).toBe(0)
    expect(stdout).toContain(`${ERASE}running [${'#'.repeat(12)}${'-'.repeat(12)}]  50% 2/4`)
    expect(stdout).not.toMatch(/^progress /m)
    expect(stdout).toContain(join(out, 'x.json'))
  })

  it('schema: prints the inputs/outputs table', async () => {
    worker = await startV1Worker()
    const r = await runCli(['schema', worker.url])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/inputs\n\s+name\s+type\s+required\s+default\n\s+image\s+IMAGE\s+yes/)
    expect(r.stdout).toMatch(/outputs\n\s+name\s+type\n\s+image\s+IMAGE/)
  })

  it('SIGINT cancels the remote job (DELETE) and exits 130', async () => {
    worker = await startV1Worker({ steps: 1_000_000, tick: 50 })
    const w = worker
    const run = startCli(['call', w.url, '--input', 'x=1', '--out', join(dir, 'out3')])
    let stderr = ''
    run.child.stderr?.on('data', (c: Buffer) => {
      stderr += c.toString()
    })
    await until(() => /progress 2\//.test(stderr), 10_000)
    run.child.kill('SIGINT')
    const r = await run.result
    expect(r.code).toBe(130)
    expect(w.requests.some((q) => q.method === 'DELETE' && q.path === '/jobs/j1')).toBe(true)
    expect(r.stderr).toMatch(/CANCELLED/)
  })
})
