import { execFile } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { delimiter, join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { CLI, cleanupTempDirs, FIXTURES, nodePackDir, PACKAGE_DIR, tempDir } from './helpers.js'

afterAll(cleanupTempDirs)
const run = promisify(execFile)
const env = {
  ...process.env,
  PATH: `${join(PACKAGE_DIR, 'test', 'bin')}${delimiter}${process.env.PATH}`,
  FAKE_MODAL_MODE: '',
}

async function cli(args: string[], extraEnv: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await run('node', [CLI, ...args], {
      env: { ...env, ...extraEnv },
      timeout: 30_000,
    })
    return { code: 0, stdout, stderr }
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string }
    return { code: e.code, stdout: e.stdout, stderr: e.stderr }
  }
}

describe.runIf(existsSync(CLI))('comfy-remote-modal CLI', () => {
  it('scaffold, deploy (URL as last line), deploy --dry-run, stop', async () => {
    const out = tempDir()
    const args = [
      'scaffold',
      '--workflow',
      join(FIXTURES, 'echo-prompt.json'),
      '--out',
      out,
      '--app-name',
      'cli-app',
      '--gpu',
      'L40S',
      '--pip',
      'numpy==1.26.4,scipy',
    ]
    const scaffold = await cli([...args, '--apt', 'libgl1', '--node-pack', nodePackDir()])
    expect(scaffold.code).toBe(0)
    const dir = scaffold.stdout.trim()
    expect(dir).toBe(join(out, 'cli-app'))
    expect(scaffold.stderr).toContain('modal secret create cli-app-auth COMFY_REMOTE_TOKEN=')

    const deploy = await cli(['deploy', dir, '--force-rebuild'], { FAKE_MODAL_MODE: 'wrapped' })
    expect(deploy.code).toBe(0)
    expect(deploy.stdout.trim().split('\n').at(-1)).toBe(
      'https://my-long-workspace-name--cli-app-web.modal.run',
    )
    expect(deploy.stderr).toContain('modal: ')

    const dry = await cli(['deploy', dir, '--dry-run'])
    expect(dry.code).toBe(0)
    expect(dry.stderr).toMatch(/not a live endpoint/)

    const stop = await cli(['stop', 'cli-app'])
    expect(stop).toMatchObject({ code: 0, stdout: 'stopped cli-app\n' })
  })

  it('scaffold --memory-snapshot --gpu-snapshot --warmup --startup-timeout writes cold_start and the class options', async () => {
    const out = tempDir()
    const base = ['scaffold', '--workflow', join(FIXTURES, 'echo-prompt.json'), '--out', out]
    const flags = ['--memory-snapshot', '--gpu-snapshot', '--warmup', '--startup-timeout', '1200']
    const result = await cli([...base, '--app-name', 'snap-cli', ...flags, '--node-pack', nodePackDir()])
    expect(result.code).toBe(0)
    expect(result.stderr).toContain('CPU+GPU memory snapshots on')
    const dir = result.stdout.trim()
    const config = JSON.parse(readFileSync(join(dir, 'modal_config.json'), 'utf8'))
    expect(config.cold_start).toEqual({ memory_snapshot: true, gpu_snapshot: true, warmup: true })
    expect(config.timeouts.startup_seconds).toBe(1200)
    const py = readFileSync(join(dir, 'workflow.py'), 'utf8')
    expect(py).toContain('MEMORY_SNAPSHOT = True\nGPU_SNAPSHOT = True\nWARMUP = True\n')
    expect(py).toContain('startup_timeout=STARTUP_TIMEOUT_SECONDS,')
    expect(py).toContain('@modal.enter(snap=MEMORY_SNAPSHOT)')

    const help = await cli(['scaffold', '--help'])
    for (const flag of ['--memory-snapshot', '--gpu-snapshot', '--warmup', '--startup-timeout'])
      expect(help.stdout).toContain(flag)
  })

  it.each([
    [
      ['--gpu-snapshot'],
      1,
      /INVALID_OPTIONS: gpuSnapshot: GPU snapshots \(--gpu-snapshot\) .*add --memory-snapshot/,
    ],
    [
      ['--startup-timeout', '5'],
      1,
      /INVALID_OPTIONS: startupTimeoutSeconds: --startup-timeout must be 10\.\.3600/,
    ],
    [['--startup-timeout', '10m'], 2, /--startup-timeout must be a whole number of seconds/],
  ])('scaffold %j is refused naming the flag and the fix', async (flags, code, pattern) => {
    const args = ['scaffold', '--workflow', join(FIXTURES, 'echo-prompt.json'), '--out', tempDir()]
    const result = await cli([...args, '--app-name', 'bad-snap', ...flags, '--node-pack', nodePackDir()])
    expect(result.code).toBe(code)
    expect(result.stderr).toMatch(pattern)
  })

  it.each([
    [['deploy', '/nonexistent/project'], 1, /^comfy-remote-modal: NOT_A_PROJECT: /],
    [['stop', 'cli-app'], 1, /^comfy-remote-modal: STOP_FAILED: /],
    [
      ['scaffold', '--workflow', 'x.json', '--out', '/tmp', '--app-name', '../x'],
      1,
      /^comfy-remote-modal: INVALID_OPTIONS: appName/,
    ],
    [['scaffold', '--out', '/tmp'], 2, /--workflow is required/],
    [['bogus'], 2, /unknown command "bogus"/],
    [['deploy', '--nope'], 2, /Unknown option/],
  ])('%j exits %i with a one-line reason', async (args, code, pattern) => {
    const result = await cli(args, { FAKE_MODAL_MODE: 'fail' })
    expect(result.code).toBe(code)
    const lines = result.stderr.trim().split('\n')
    if (code === 1)
      expect(lines.at(-1)).toMatch(pattern) // progress lines may come first; the reason is one line
    else expect(result.stderr).toMatch(pattern)
  })
})
