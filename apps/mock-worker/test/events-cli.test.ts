// Both CLIs as real processes: the mock worker with a webhook secret from the environment, and
// `comfy-remote call --webhook` naming a local receiver.
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { verifyWebhook } from '@comfy-remote/remote-client'
import { afterAll, describe, expect, it } from 'vitest'
import { FIXTURES, waitUntil } from './helpers.js'
import { newSecret, Receiver } from './webhook-receiver.js'

const WORKER_CLI = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'cli.js')
const CLIENT_CLI = join(
  dirname(createRequire(import.meta.url).resolve('@comfy-remote/remote-client/package.json')),
  'dist',
  'cli.js',
)
const SAMPLE = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  '..',
  'examples',
  'assets',
  'sample.png',
)
const children = new Set<ChildProcess>()
afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL')
})

function spawnNode(
  args: string[],
  env: Record<string, string> = {},
): { child: ChildProcess; out: () => string } {
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  })
  children.add(child)
  let seen = ''
  child.stdout?.on('data', (c: Buffer) => (seen += c))
  child.stderr?.on('data', (c: Buffer) => (seen += c))
  return { child, out: () => seen }
}

describe('webhooks from the command line', () => {
  it('comfy-remote call --webhook gets the finished job delivered, signed with the env secret', async () => {
    const secret = newSecret()
    const hook = await new Receiver().start()
    const worker = spawnNode(
      [
        WORKER_CLI,
        '--workflow',
        join(FIXTURES, 'echo-prompt.json'),
        '--port',
        '0',
        '--allow-loopback-webhooks',
      ],
      { COMFY_REMOTE_WEBHOOK_SECRET: secret },
    )
    await waitUntil(() => /listening on http:\/\/127\.0\.0\.1:\d+/.test(worker.out()), 15_000)
    expect(worker.out()).toContain('Webhooks: signed')
    const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(worker.out())?.[1] as string
    const out = await mkdtemp(join(tmpdir(), 'webhook-cli-'))
    const call = spawnNode([
      CLIENT_CLI,
      'call',
      url,
      '--input',
      `image=@${SAMPLE}`,
      '--webhook',
      hook.url,
      '--out',
      out,
      '-q',
    ])
    const [code] = (await once(call.child, 'exit')) as [number | null]
    expect(code, call.out()).toBe(0)
    await waitUntil(() => hook.received.length === 1)
    const got = hook.received[0]
    const verified = verifyWebhook(secret, got?.headers as Record<string, string>, got?.body ?? '')
    expect(verified.envelope.status).toBe('completed')
    worker.child.kill('SIGTERM')
    await once(worker.child, 'exit')
    await hook.close()
    await rm(out, { recursive: true, force: true })
  })

  it('comfy-remote call --previews writes latest + numbered previews and prints the timings', async () => {
    const worker = spawnNode([
      WORKER_CLI,
      '--workflow',
      join(FIXTURES, 'echo-prompt.json'),
      '--port',
      '0',
      '--steps',
      '4',
      '--step-ms',
      '300',
    ])
    await waitUntil(() => /listening on http:\/\/127\.0\.0\.1:\d+/.test(worker.out()), 15_000)
    const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(worker.out())?.[1] as string
    const out = await mkdtemp(join(tmpdir(), 'previews-cli-'))
    const dir = join(out, 'previews')
    const call = spawnNode([
      CLIENT_CLI,
      'call',
      url,
      '--input',
      `image=@${SAMPLE}`,
      '--previews',
      dir,
      '--out',
      out,
    ])
    const [code] = (await once(call.child, 'exit')) as [number | null]
    expect(code, call.out()).toBe(0)
    const files = (await readdir(dir)).sort()
    expect(files).toContain('latest.png')
    expect(files.filter((f) => /^preview-\d{4}\.png$/.test(f)).length).toBeGreaterThanOrEqual(2)
    expect([...(await readFile(join(dir, 'latest.png'))).subarray(0, 4)]).toEqual([0x89, 0x50, 0x4e, 0x47])
    expect(call.out()).toMatch(/progress \d\/4 ImageInvert \d\/4 \(node 2\)/)
    expect(call.out()).toMatch(/previews in /)
    expect(call.out()).toMatch(/^timings: queue [\d.]+ s, start-up 0 s, run [\d.]+ s, transfer [\d.]+ s$/m)
    worker.child.kill('SIGTERM')
    await once(worker.child, 'exit')
    await rm(out, { recursive: true, force: true })
  })
})
