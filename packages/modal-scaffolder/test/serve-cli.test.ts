import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { scaffoldModalProject } from '../src/index.js'
import { CLI, cleanupTempDirs, FIXTURES, nodePackDir, tempDir } from './helpers.js'

// `comfy-remote-modal serve` refusing what it must refuse, before any Python runs or any port opens.
// Serving for real is covered by served-app.test.ts and by tests/contract (the conformance suite).
const run = promisify(execFile)
let project = ''

async function serve(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await run('node', [CLI, 'serve', ...args], {
      env: { ...process.env, COMFY_REMOTE_TOKEN: '', ...env },
      timeout: 30_000,
    })
    return { code: 0, stdout, stderr }
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string }
    return { code: e.code, stdout: e.stdout, stderr: e.stderr }
  }
}

beforeAll(async () => {
  const { dir } = await scaffoldModalProject({
    workflow: join(FIXTURES, 'echo-prompt.json'),
    outDir: tempDir(),
    appName: 'serve-cli',
    nodePackDir: nodePackDir(),
  })
  project = dir
})
afterAll(cleanupTempDirs)

describe.runIf(existsSync(CLI))('comfy-remote-modal serve refuses', () => {
  it('another interface without a token', async () => {
    const r = await serve([project, '--comfyui-url', 'http://127.0.0.1:9', '--host', '0.0.0.0'])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/INVALID_OPTIONS: host: 0\.0\.0\.0 without a token .*--token/)
  })

  it('a short token, a bad ComfyUI URL, a missing --comfyui-url', async () => {
    const short = await serve([project, '--comfyui-url', 'http://127.0.0.1:9', '--token', 'abc'])
    expect(short.stderr).toMatch(/token: must be at least 8 characters/)
    const bad = await serve([project, '--comfyui-url', 'ftp://x'])
    expect(bad.stderr).toMatch(/comfyuiUrl: must be an http\(s\) URL/)
    const missing = await serve([project])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toMatch(/--comfyui-url is required/)
  })

  it('a folder that is not a scaffolded project', async () => {
    const r = await serve([tempDir(), '--comfyui-url', 'http://127.0.0.1:9'])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/NOT_A_PROJECT: .* scaffold it first/)
  })

  it('a Python without fastapi and uvicorn, naming what to install', async () => {
    const r = await serve([
      project,
      '--comfyui-url',
      'http://127.0.0.1:9',
      '--python',
      '/nonexistent/python3',
    ])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/SERVE_PYTHON_MISSING: .*\/nonexistent\/python3.*fastapi\[standard\]/)
  })

  it('a ComfyUI that does not answer, naming the URL', async () => {
    const r = await serve([project, '--comfyui-url', 'http://127.0.0.1:9'], {
      COMFY_REMOTE_COMFYUI_WAIT: '1',
    })
    if (/SERVE_PYTHON_MISSING/.test(r.stderr)) return // no Python with fastapi here: covered above
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/ComfyUI at http:\/\/127\.0\.0\.1:9 did not answer \/system_stats/)
  }, 60_000)
})
