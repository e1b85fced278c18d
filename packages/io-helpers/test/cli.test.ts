import type { ChildProcess } from 'node:child_process'
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { afterAll, expect, it } from 'vitest'

const cli = fileURLToPath(new URL('../dist/testing/cli.js', import.meta.url))
const children: ChildProcess[] = []

afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL')
})

function start(args: string[]): Promise<{ child: ChildProcess; line: string; stderr: () => string }> {
  const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  children.push(child)
  let out = ''
  let err = ''
  child.stderr!.on('data', (d) => {
    err += String(d)
  })
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no output from the CLI within 10 s: ${err}`)), 10_000)
    child.stdout!.on('data', (d) => {
      out += String(d)
      if (out.includes('\n')) {
        clearTimeout(timer)
        resolve({ child, line: out.split('\n')[0]!, stderr: () => err })
      }
    })
    child.on('exit', () => {
      clearTimeout(timer)
      resolve({ child, line: out.split('\n')[0] ?? '', stderr: () => err })
    })
  })
}

it('is built (run `pnpm build` first)', () => {
  expect(existsSync(cli)).toBe(true)
})

it('prints its URL as one JSON line, serves the recordings, and stops on SIGTERM', async () => {
  const { child, line } = await start([
    '--port',
    '0',
    '--delay-ms',
    '5',
    '--progress-steps',
    '2',
    '--step-delay-ms',
    '1',
    '--progress-text',
    '--cache',
  ])
  const { url } = JSON.parse(line) as { url: string }
  expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
  const stats = (await (await fetch(`${url}/system_stats`)).json()) as { system: { comfyui_version: string } }
  expect(stats.system.comfyui_version).toBe('0.3.64')
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  child.kill('SIGTERM')
  expect(await exited).toBe(0)
})

it('rejects unknown options with exit code 2 and the usage', async () => {
  const { child, stderr } = await start(['--bogus', '1'])
  const code = child.exitCode ?? (await new Promise<number | null>((resolve) => child.on('exit', resolve)))
  expect(code).toBe(2)
  expect(stderr()).toContain('unknown option --bogus')
})
