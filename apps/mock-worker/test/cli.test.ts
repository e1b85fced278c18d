// The CLI as a real process: flags, URL + contract table on stdout, graceful SIGTERM, refusals.
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createFakeComfyUI } from '@comfy-remote/io-helpers/testing'
import { afterAll, describe, expect, it } from 'vitest'
import { FIXTURES } from './helpers.js'

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'cli.js')
const children = new Set<ChildProcess>()

function start(args: string[]): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  children.add(child)
  let seen = ''
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL within 15 s:\n${seen}`)), 15_000)
    const onData = (chunk: Buffer) => {
      seen += chunk.toString('utf8')
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(seen)
      if (match?.[1] && seen.includes('Outputs:')) {
        clearTimeout(timer)
        resolve({ child, url: match[1], output: () => seen })
      }
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`exited early (${code}):\n${seen}`))
    })
  })
}

async function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  children.add(child)
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (c: Buffer) => (stdout += c))
  child.stderr.on('data', (c: Buffer) => (stderr += c))
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
  const [code] = (await once(child, 'exit')) as [number | null]
  clearTimeout(timer)
  return { code, stdout, stderr }
}

afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL')
})

describe('comfy-remote-mock CLI', () => {
  it('serves an API workflow, prints URL and the inputs/outputs table, exits 0 on SIGTERM', async () => {
    const { child, url, output } = await start([
      '--workflow',
      join(FIXTURES, 'echo-prompt.json'),
      '--port',
      '0',
      '--steps',
      '1',
      '--step-ms',
      '0',
    ])
    expect(output()).toMatch(/image\s+IMAGE\s+yes/)
    expect(output()).toMatch(/caption\s+\*\s+no\s+"hello"/)
    const res = await fetch(`${url}/run?wait=10`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: { image: { type: 'IMAGE', encoding: 'json', data: 1 } } }),
    })
    expect(((await res.json()) as { status: string }).status).toBe('completed')
    child.kill('SIGTERM')
    const [code] = (await once(child, 'exit')) as [number | null]
    expect(code).toBe(0)
    // One log line per job state change.
    expect(output().match(/"msg":"job (pending|running|completed)"/g)).toHaveLength(3)
  })

  it('converts a UI-format workflow with the default object_info', async () => {
    const { child, url } = await start([
      '--workflow',
      join(FIXTURES, 'ui-workflow.json'),
      '--port',
      '0',
      '--log-level',
      'warn',
    ])
    const schema = (await (await fetch(`${url}/schema`)).json()) as {
      inputs: Array<{ name: string; type: string }>
      outputs: Array<{ name: string }>
    }
    expect(schema.inputs).toMatchObject([{ name: 'image', type: 'IMAGE' }])
    expect(schema.outputs).toMatchObject([{ name: 'inverted' }])
    child.kill('SIGTERM')
    await once(child, 'exit')
  })

  it("--engine comfyui converts a UI workflow with the server's object_info and runs jobs on it", async () => {
    const comfy = await createFakeComfyUI()
    try {
      const { child, url } = await start([
        '--workflow',
        join(FIXTURES, 'ui-workflow.json'),
        '--engine',
        'comfyui',
        '--comfyui-url',
        comfy.url,
        '--port',
        '0',
        '--log-level',
        'warn',
      ])
      expect(comfy.requests.some((r) => r.method === 'GET' && r.path === '/object_info')).toBe(true)
      const image = { type: 'IMAGE', encoding: 'json', data: [[[0.5]]] }
      const res = await fetch(`${url}/run?wait=10`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ inputs: { image } }),
      })
      const env = (await res.json()) as { status: string; outputs: Record<string, unknown> }
      expect(env.status).toBe('completed')
      expect(env.outputs.inverted).toEqual(image)
      child.kill('SIGTERM')
      const [code] = (await once(child, 'exit')) as [number | null]
      expect(code).toBe(0)
    } finally {
      await comfy.close()
    }
  })

  it('--max-stored-bytes bounds the finished results: the older one is evicted with a 404 that says so', async () => {
    const { child, url } = await start([
      '--workflow',
      join(FIXTURES, 'echo-prompt.json'),
      '--port',
      '0',
      '--steps',
      '1',
      '--step-ms',
      '0',
      '--max-stored-bytes',
      '6',
      '--log-level',
      'warn',
    ])
    const submit = async (data: string) => {
      const res = await fetch(`${url}/run?wait=10`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ inputs: { image: { type: 'IMAGE', encoding: 'npy', data } } }),
      })
      return (await res.json()) as { status: string; poll_url: string }
    }
    const first = await submit('AAAA')
    const second = await submit('AAAB')
    expect([first.status, second.status]).toEqual(['completed', 'completed'])
    const gone = await fetch(`${url}${first.poll_url}`)
    expect(gone.status).toBe(404)
    expect(((await gone.json()) as { error: { message: string } }).error.message).toMatch(/memory budget/)
    expect((await fetch(`${url}${second.poll_url}`)).status).toBe(200)
    child.kill('SIGTERM')
    await once(child, 'exit')
    const bad = await run(['--workflow', join(FIXTURES, 'echo-prompt.json'), '--max-stored-bytes', 'lots'])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain('--max-stored-bytes')
  })

  it('refuses a non-loopback host without a token', async () => {
    const { code, stderr } = await run([
      '--workflow',
      join(FIXTURES, 'echo-prompt.json'),
      '--host',
      '0.0.0.0',
      '--port',
      '0',
    ])
    expect(code).toBe(1)
    expect(stderr).toContain('INSECURE_HOST')
    expect(stderr).toContain('--token')
  })

  it('explains a missing --workflow, an unknown flag and a missing file', async () => {
    const missing = await run([])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain('--workflow')
    const unknown = await run(['--workflow', 'x.json', '--nope'])
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toContain('--nope')
    const file = await run(['--workflow', join(FIXTURES, 'does-not-exist.json')])
    expect(file.code).toBe(1)
    expect(file.stderr).toContain('does-not-exist.json')
  })

  it('--help lists every flag', async () => {
    const { code, stdout } = await run(['--help'])
    expect(code).toBe(0)
    for (const flag of [
      '--workflow',
      '--port',
      '--host',
      '--engine',
      '--comfyui-url',
      '--token',
      '--steps',
      '--step-ms',
      '--fail-rate',
      '--object-info',
      '--max-stored-bytes',
    ]) {
      expect(stdout).toContain(flag)
    }
  })
})
