import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { delimiter, join } from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  DRY_RUN_HOST,
  deployModalProject,
  isModalScaffolderError,
  scaffoldModalProject,
  stopModalApp,
} from '../src/index.js'
import { cleanupTempDirs, FIXTURES, nodePackDir, PACKAGE_DIR, tempDir } from './helpers.js'

const FAKE_BIN = join(PACKAGE_DIR, 'test', 'bin')
const originalPath = process.env.PATH
let project: string
let record: string

interface Call {
  argv: string[]
  cwd: string
  env: Record<string, string>
  pid: number
}
const calls = (): Call[] =>
  existsSync(record)
    ? readFileSync(record, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Call)
    : []

beforeAll(async () => {
  process.env.PATH = `${FAKE_BIN}${delimiter}${originalPath}`
  const result = await scaffoldModalProject({
    workflow: join(FIXTURES, 'echo-prompt.json'),
    outDir: tempDir(),
    appName: 'echo-app',
    nodePackDir: nodePackDir(),
    buildNonce: 'first-nonce',
  })
  project = result.dir
})
afterAll(() => {
  process.env.PATH = originalPath
  delete process.env.FAKE_MODAL_MODE
  delete process.env.FAKE_MODAL_RECORD
  cleanupTempDirs()
})
beforeEach(() => {
  record = join(tempDir(), 'calls.jsonl')
  process.env.FAKE_MODAL_RECORD = record
  delete process.env.FAKE_MODAL_MODE
})

const URL = 'https://my-long-workspace-name--echo-app-web.modal.run'

describe('deployModalProject with a fake modal on PATH', () => {
  it('runs `modal deploy workflow.py` in the project with a wide terminal, streams the log, returns the URL', async () => {
    const lines: string[] = []
    const result = await deployModalProject(project, {
      onLog: (l) => lines.push(l),
      env: { EXTRA_ENV: 'yes' },
    })
    expect(result).toMatchObject({
      url: URL,
      dryRun: false,
      appName: 'echo-app',
      dashboardUrl: 'https://modal.com/apps/my-long-workspace-name/main/deployed/echo-app',
    })
    const [call] = calls()
    expect(call).toEqual({
      pid: expect.any(Number),
      argv: ['deploy', 'workflow.py'],
      cwd: project,
      env: expect.objectContaining({ COLUMNS: '400', NO_COLOR: '1', EXTRA_ENV: 'yes' }),
    })
    expect(call?.env.MODAL_IGNORE_CACHE).toBeUndefined()
    expect(lines.some((l) => l.includes('Created web function web'))).toBe(true)
    expect(JSON.parse(readFileSync(join(project, 'modal_config.json'), 'utf8')).build_nonce).toBe(
      'first-nonce',
    )
  })

  it.each(['wrapped', 'arrow-eol', 'proxy-wrapped'])(
    'rejoins a URL the CLI split over lines (%s)',
    async (mode) => {
      process.env.FAKE_MODAL_MODE = mode
      expect((await deployModalProject(project)).url).toBe(URL)
    },
  )

  it('forced rebuild sets MODAL_IGNORE_CACHE=1 and writes a new build nonce into the project', async () => {
    const before = readFileSync(join(project, 'workflow.py'), 'utf8')
    await deployModalProject(project, { forceRebuild: true })
    const [call] = calls()
    expect(call?.env.MODAL_IGNORE_CACHE).toBe('1')
    const nonce = JSON.parse(readFileSync(join(project, 'modal_config.json'), 'utf8')).build_nonce as string
    expect(nonce).not.toBe('first-nonce')
    const after = readFileSync(join(project, 'workflow.py'), 'utf8')
    expect(after).toContain(`BUILD_NONCE = "${nonce}"`)
    expect(after.replace(nonce, 'first-nonce')).toBe(
      before.replace(/BUILD_NONCE = "[^"]*"/, 'BUILD_NONCE = "first-nonce"'),
    )
  })

  it.each([
    ['fail', 'DEPLOY_FAILED', 'Image build for im-abc123 failed'],
    ['token', 'MODAL_TOKEN_MISSING', 'modal token new'],
    ['secret', 'MODAL_SECRET_MISSING', 'modal secret create echo-app-auth COMFY_REMOTE_TOKEN='],
    ['secret-key', 'MODAL_SECRET_MISSING', 'has no COMFY_REMOTE_TOKEN'],
    [
      'nourl-dev',
      'DEPLOY_URL_NOT_FOUND',
      'https://modal.com/apps/my-long-workspace-name/dev/deployed/echo-app',
    ],
  ])('mode %s gives %s', async (mode, code, text) => {
    process.env.FAKE_MODAL_MODE = mode
    const error = await deployModalProject(project).catch((e: unknown) => e)
    expect(isModalScaffolderError(error) && error.code).toBe(code)
    expect((error as Error).message).toContain(text)
  })

  it('a missing models Secret key names that Secret and HF_TOKEN, not the auth Secret', async () => {
    const withModels = await scaffoldModalProject({
      workflow: join(FIXTURES, 'echo-prompt.json'),
      outDir: tempDir(),
      appName: 'hf-app',
      nodePackDir: nodePackDir(),
      models: ['https://huggingface.co/o/r/resolve/main/m.safetensors=checkpoints/m.safetensors'],
      modelsSecret: 'hf-secret',
    })
    process.env.FAKE_MODAL_MODE = 'models-secret-key'
    const error = await deployModalProject(withModels.dir).catch((e: unknown) => e)
    expect(isModalScaffolderError(error, 'MODAL_SECRET_MISSING')).toBe(true)
    expect((error as Error).message).toContain('modal secret create hf-secret HF_TOKEN=')
    expect((error as Error).message).not.toContain('COMFY_REMOTE_TOKEN')
  })

  it('derives the URL from the dashboard link when the CLI printed none (default environment)', async () => {
    process.env.FAKE_MODAL_MODE = 'nourl'
    const lines: string[] = []
    const result = await deployModalProject(project, { onLog: (l) => lines.push(l) })
    expect(result.url).toBe(URL)
    expect(lines.at(-1)).toContain('derived')
  })

  it('reports a missing CLI with the install command', async () => {
    const error = await deployModalProject(project, { modalBin: join(tempDir(), 'no-such-modal') }).catch(
      (e: unknown) => e,
    )
    expect(error).toMatchObject({
      code: 'MODAL_CLI_MISSING',
      message: expect.stringContaining('pip install modal'),
    })
  })

  it('an abort signal stops the modal child', async () => {
    process.env.FAKE_MODAL_MODE = 'slow'
    const controller = new AbortController()
    const error = await deployModalProject(project, {
      signal: controller.signal,
      onLog: () => controller.abort(),
    }).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'DEPLOY_FAILED', message: expect.stringContaining('cancelled') })
    const pid = calls()[0]?.pid ?? 0
    expect(() => process.kill(pid, 0)).toThrow()
  })

  it('re-renders workflow.py from an edited modal_config.json (cold_start) before deploying', async () => {
    const { dir } = await scaffoldModalProject({
      workflow: join(FIXTURES, 'echo-prompt.json'),
      outDir: tempDir(),
      appName: 'edit-app',
      nodePackDir: nodePackDir(),
    })
    const file = join(dir, 'modal_config.json')
    const config = JSON.parse(readFileSync(file, 'utf8'))
    expect(readFileSync(join(dir, 'workflow.py'), 'utf8')).toContain('MEMORY_SNAPSHOT = False')
    writeFileSync(
      file,
      JSON.stringify({ ...config, cold_start: { ...config.cold_start, gpu_snapshot: true } }),
    )
    await expect(deployModalProject(dir)).rejects.toMatchObject({
      code: 'INVALID_OPTIONS',
      message: expect.stringMatching(/cold_start\.gpu_snapshot: .*memory_snapshot to true/),
    })
    expect(calls()).toEqual([])
    const { cold_start: _, ...old } = config // a project scaffolded before cold_start existed
    writeFileSync(
      file,
      JSON.stringify({ ...old, cold_start: { memory_snapshot: true, gpu_snapshot: false, warmup: false } }),
    )
    await deployModalProject(dir)
    expect(calls()).toHaveLength(1)
    const py = readFileSync(join(dir, 'workflow.py'), 'utf8')
    expect(py).toContain('MEMORY_SNAPSHOT = True')
    writeFileSync(file, JSON.stringify(old))
    await deployModalProject(dir)
    expect(readFileSync(join(dir, 'workflow.py'), 'utf8')).toContain('MEMORY_SNAPSHOT = False')
    expect(JSON.parse(readFileSync(file, 'utf8')).cold_start).toEqual({
      memory_snapshot: false,
      gpu_snapshot: false,
      warmup: false,
    })
  })

  it('dry run calls nothing and returns a placeholder that says so', async () => {
    const lines: string[] = []
    const result = await deployModalProject(project, { dryRun: true, onLog: (l) => lines.push(l) })
    expect(result.url).toBe(`https://${DRY_RUN_HOST}/echo-app`)
    expect(result.log).toMatch(/not a live endpoint/)
    expect(lines).toEqual([result.log])
    expect(calls()).toEqual([])
  })

  it('refuses a directory that is not a project', async () => {
    await expect(deployModalProject(tempDir())).rejects.toMatchObject({ code: 'NOT_A_PROJECT' })
    expect(calls()).toEqual([])
  })
})

describe('stopModalApp', () => {
  it('runs `modal app stop <name> --yes` (current CLIs abort without a TTY otherwise)', async () => {
    await stopModalApp('echo-app')
    expect(calls().map((c) => c.argv)).toEqual([['app', 'stop', 'echo-app', '--yes']])
  })

  it('retries without --yes on a CLI that does not know it', async () => {
    process.env.FAKE_MODAL_MODE = 'legacy-stop'
    await stopModalApp('echo-app')
    expect(calls().map((c) => c.argv)).toEqual([
      ['app', 'stop', 'echo-app', '--yes'],
      ['app', 'stop', 'echo-app'],
    ])
  })

  it('counts an app that is already stopped as stopped', async () => {
    process.env.FAKE_MODAL_MODE = 'already-stopped'
    await expect(stopModalApp('echo-app')).resolves.toMatchObject({
      log: expect.stringContaining('already stopped'),
    })
  })

  it('fails with STOP_FAILED and the CLI reason', async () => {
    process.env.FAKE_MODAL_MODE = 'fail'
    await expect(stopModalApp('echo-app')).rejects.toMatchObject({
      code: 'STOP_FAILED',
      message: expect.stringContaining('Could not find a deployed app'),
    })
  })

  it.each(['--help', 'a b', 'x;rm -rf /', '', '../up'])(
    'rejects the app name %j without running modal',
    async (name) => {
      await expect(stopModalApp(name)).rejects.toMatchObject({ code: 'INVALID_OPTIONS' })
      expect(calls()).toEqual([])
    },
  )
})
