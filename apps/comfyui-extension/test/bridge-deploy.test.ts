import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { killBridges, runBridge } from './helpers/bridge.js'
import { createFakeModal } from './helpers/fake-modal.js'
import { cleanupWorkDirs, makeWorkDir } from './helpers/values.js'

const modal = createFakeModal()
afterAll(() => {
  killBridges()
  cleanupWorkDirs()
  modal.cleanup()
})

const prompt = JSON.parse(readFileSync(new URL('./fixtures/echo-prompt.json', import.meta.url), 'utf8'))
const env = { PATH: modal.path }

function deployRequest(fields: Record<string, unknown>) {
  return {
    op: 'deploy',
    workflow: prompt,
    workflowPath: null,
    appName: 'bridge-test',
    workingDirectory: makeWorkDir(),
    pipPackages: ['einops'],
    aptPackages: [],
    gpu: 'A10G',
    deploy: true,
    dryRun: false,
    cleanBuild: false,
    forceRebuild: false,
    deleteApp: false,
    ...fields,
  }
}

describe('bridge process: deploy', () => {
  it('dry run writes the project, calls no modal and returns a placeholder that is not live', async () => {
    const before = modal.calls().length
    const req = deployRequest({ dryRun: true })
    const { code, events, stderr } = await runBridge(req, env)
    expect(code, `${stderr}\n${JSON.stringify(events)}`).toBe(0)
    const result = events.at(-1) as Record<string, unknown>
    const projectDir = join(req.workingDirectory as string, 'bridge-test')
    expect(result).toMatchObject({ event: 'result', projectDir, dryRun: true, live: false })
    expect(String(result.url)).toMatch(/\.invalid\//)
    expect(existsSync(join(projectDir, 'workflow.py'))).toBe(true)
    expect(existsSync(join(projectDir, 'custom_nodes', 'comfy_remote', '__init__.py'))).toBe(true)
    expect(existsSync(join(projectDir, 'custom_nodes', 'comfy_remote', 'bridge'))).toBe(false)
    expect(JSON.parse(readFileSync(join(projectDir, 'prompt.json'), 'utf8'))).toEqual(prompt)
    const config = JSON.parse(readFileSync(join(projectDir, 'modal_config.json'), 'utf8'))
    expect(JSON.stringify(config)).toContain('einops')
    expect(JSON.stringify(config)).toContain('A10G')
    expect(modal.calls().length).toBe(before)
    const logs = events.filter((e) => e.event === 'log').map((e) => String(e.message))
    expect(logs.join('\n')).toMatch(/not a live endpoint/)
    const progress = events.filter((e) => e.event === 'progress').map((e) => e.value)
    expect(progress).toEqual([0, 1, 2])
  })

  it('deploys with the modal CLI (forced rebuild) and returns the rejoined URL', async () => {
    const before = modal.calls().length
    const req = deployRequest({ forceRebuild: true })
    const { code, events, stderr } = await runBridge(req, env)
    expect(code, `${stderr}\n${JSON.stringify(events)}`).toBe(0)
    const projectDir = join(req.workingDirectory as string, 'bridge-test')
    expect(events.at(-1)).toEqual({
      event: 'result',
      url: 'https://me--bridge-test-web.modal.run',
      projectDir,
      dryRun: false,
      live: true,
    })
    const calls = modal.calls().slice(before)
    expect(calls.map((c) => c.argv)).toEqual([['deploy', 'workflow.py']])
    expect(calls[0]?.cwd).toBe(projectDir)
    expect(calls[0]?.env.MODAL_IGNORE_CACHE).toBe('1')
    const logs = events.filter((e) => e.event === 'log').map((e) => String(e.message))
    expect(logs).toContain('\u2713 Created objects.')
  })

  it('delete_modal_app stops the app and deploys nothing, even with deploy on (dry run: no modal call)', async () => {
    const before = modal.calls().length
    const req = deployRequest({ deleteApp: true, deploy: true })
    const { code, events, stderr } = await runBridge(req, env)
    expect(code, stderr).toBe(0)
    expect(
      modal
        .calls()
        .slice(before)
        .map((c) => c.argv),
    ).toEqual([['app', 'stop', 'bridge-test', '--yes']])
    expect(events.at(-1)).toEqual({ event: 'result', url: '', projectDir: '', dryRun: false, live: false })
    expect(existsSync(join(req.workingDirectory as string, 'bridge-test'))).toBe(false)

    const dry = await runBridge(deployRequest({ deleteApp: true, dryRun: true }), env)
    expect(dry.events.at(-1)).toMatchObject({ event: 'result', url: '', dryRun: true, live: false })
    expect(dry.events.some((e) => /would run "modal app stop bridge-test"/.test(String(e.message)))).toBe(
      true,
    )
    expect(modal.calls().length).toBe(before + 1)
  })

  it('puts the project next to a workflow file as modal_<app> when no working directory is given', async () => {
    const dir = makeWorkDir()
    const workflowPath = join(dir, 'wf.json')
    writeFileSync(workflowPath, JSON.stringify(prompt))
    const req = deployRequest({ workflow: null, workflowPath, workingDirectory: null, deploy: false })
    const { code, events, stderr } = await runBridge(req, env)
    expect(code, `${stderr}\n${JSON.stringify(events)}`).toBe(0)
    expect(events.at(-1)).toMatchObject({
      event: 'result',
      url: '',
      projectDir: join(dir, 'modal_bridge-test', 'bridge-test'),
      live: false,
    })
  })

  it('reports modal failures and bad names as error events with the scaffolder codes', async () => {
    const failed = await runBridge(deployRequest({}), { ...env, FAKE_MODAL_FAIL: '1' })
    expect(failed.code).toBe(1)
    expect(failed.events.at(-1)).toMatchObject({ event: 'error' })
    expect(String(failed.events.at(-1)?.code)).toMatch(/^(MODAL_TOKEN_MISSING|DEPLOY_FAILED)$/)
    const hostile = await runBridge(deployRequest({ appName: 'x"; rm -rf /' }), env)
    expect(hostile.events.at(-1)).toMatchObject({ event: 'error', code: 'INVALID_OPTIONS' })
  })

  it('passes models, modelsSecret and volume to the scaffolder (dry run: modal_config.json has them)', async () => {
    const before = modal.calls().length
    const sha = 'AB'.repeat(32)
    const req = deployRequest({
      dryRun: true,
      models: [
        'https://huggingface.co/org/repo/resolve/main/m.safetensors?download=true=checkpoints/m.safetensors',
        `https://example.com/l.safetensors=loras/l.safetensors@sha256:${sha}`,
      ],
      modelsSecret: 'hf-secret',
      volume: 'comfy-models',
    })
    const { code, events, stderr } = await runBridge(req, env)
    expect(code, `${stderr}\n${JSON.stringify(events)}`).toBe(0)
    const projectDir = join(req.workingDirectory as string, 'bridge-test')
    const config = JSON.parse(readFileSync(join(projectDir, 'modal_config.json'), 'utf8'))
    expect(config.models).toEqual([
      {
        url: 'https://huggingface.co/org/repo/resolve/main/m.safetensors?download=true',
        path: 'checkpoints/m.safetensors',
      },
      { url: 'https://example.com/l.safetensors', path: 'loras/l.safetensors', sha256: sha.toLowerCase() },
    ])
    expect(config.models_secret).toBe('hf-secret')
    expect(config.volume).toBe('comfy-models')
    const logs = events.filter((e) => e.event === 'log').map((e) => String(e.message))
    expect(logs.join('\n')).toContain('modal secret create hf-secret HF_TOKEN=')
    expect(logs.join('\n')).toContain('modal volume put comfy-models')
    expect(modal.calls().length).toBe(before)
  })

  it('passes the cold start options to the scaffolder; GPU snapshots alone are refused naming the option', async () => {
    const req = deployRequest({
      dryRun: true,
      memorySnapshot: true,
      warmup: true,
      startupTimeoutSeconds: 1200,
    })
    const { code, events, stderr } = await runBridge(req, env)
    expect(code, `${stderr}\n${JSON.stringify(events)}`).toBe(0)
    const projectDir = join(req.workingDirectory as string, 'bridge-test')
    const config = JSON.parse(readFileSync(join(projectDir, 'modal_config.json'), 'utf8'))
    expect(config.cold_start).toEqual({ memory_snapshot: true, gpu_snapshot: false, warmup: true })
    expect(config.timeouts.startup_seconds).toBe(1200)
    expect(readFileSync(join(projectDir, 'workflow.py'), 'utf8')).toContain('MEMORY_SNAPSHOT = True')
    const logs = events.filter((e) => e.event === 'log').map((e) => String(e.message))
    expect(logs.join('\n')).toContain('CPU memory snapshots on')
    const refused = await runBridge(deployRequest({ dryRun: true, gpuSnapshot: true }), env)
    expect(refused.code).toBe(1)
    expect(refused.events.at(-1)).toMatchObject({ event: 'error', code: 'INVALID_OPTIONS' })
    expect(String(refused.events.at(-1)?.message)).toMatch(/gpuSnapshot: .*--memory-snapshot/)
  })

  it('bad model specs come back as INVALID_OPTIONS naming the entry; nothing is written', async () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ models: ['https://h/a.safetensors=checkpoints/a.safetensors', 'no-equals-sign'] }, /models\[1\]/],
      [{ models: ['http://h/a.safetensors=checkpoints/a.safetensors'] }, /models\[0\]\.url/],
      [{ models: ['https://h/a.safetensors=../etc/passwd'] }, /models\[0\]\.path/],
      [{ volume: 'bad volume!' }, /volume/],
    ]
    for (const [fields, message] of cases) {
      const req = deployRequest({ dryRun: true, ...fields })
      const { code, events } = await runBridge(req, env)
      expect(code).toBe(1)
      const last = events.at(-1) as Record<string, unknown>
      expect(last).toMatchObject({ event: 'error', code: 'INVALID_OPTIONS' })
      expect(String(last.message)).toMatch(message)
      expect(existsSync(join(req.workingDirectory as string, 'bridge-test', 'workflow.py'))).toBe(false)
    }
  })
})
