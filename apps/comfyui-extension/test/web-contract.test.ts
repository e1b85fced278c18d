import { spawnSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { appNameProblem, buildDeployBody, DEFAULT_DEPLOY_FORM } from '../src/web/deploy-request.js'
import { PACK_DIR } from './helpers/bridge.js'

/** The frontend's deploy body against the pack's own Python route code (comfy_remote/routes.py, deploy.py). */
const hasPython = spawnSync('python3', ['--version']).status === 0

function python(code: string, input: unknown): unknown {
  const r = spawnSync('python3', ['-c', code], {
    cwd: PACK_DIR,
    input: JSON.stringify(input),
    encoding: 'utf8',
    timeout: 20_000,
  })
  if (r.error || r.status !== 0) throw new Error(`python3 failed: ${r.error?.message ?? r.stderr}`)
  return JSON.parse(r.stdout)
}

describe.skipIf(!hasPython)('deploy body contract with the Python route', () => {
  it('the dialog accepts exactly the app names the Python route accepts', () => {
    const names = [
      'a',
      'my-app',
      'my_app',
      'A1',
      'x'.repeat(63),
      'x'.repeat(64),
      'my.app',
      '-x',
      '_x',
      'a b',
      '\u00e9',
    ]
    const accepted = python(
      'import json, sys\nfrom comfy_remote.deploy import _APP_NAME\nprint(json.dumps([bool(_APP_NAME.match(n)) for n in json.load(sys.stdin)]))',
      names,
    )
    expect(names.map((n) => appNameProblem(n) === null)).toEqual(accepted)
  })

  it('routes.deploy_request_from_body turns the dialog body into the bridge request unchanged', () => {
    const prompt = {
      '1': { class_type: 'ComfyRemoteInput', inputs: { key: 'image' } },
      '2': { class_type: 'ComfyRemoteOutput', inputs: { key: 'result', value: ['1', 0] } },
      '3': { class_type: 'ComfyRemoteModalDeployment', inputs: {} },
    }
    const body = buildDeployBody(prompt, {
      ...DEFAULT_DEPLOY_FORM,
      appName: 'flow',
      gpu: 'A10G',
      pipPackages: 'einops\nkornia',
      aptPackages: 'ffmpeg',
      cleanBuild: true,
      models: 'https://h/m.safetensors=checkpoints/m.safetensors\n# later\n',
      modelsSecret: 'hf',
      volume: 'vol',
      memorySnapshot: true,
      warmup: true,
      startupTimeout: ' 1200 ',
    })
    const request = python(
      'import json, sys\nfrom comfy_remote.routes import deploy_request_from_body\nprint(json.dumps(deploy_request_from_body(json.load(sys.stdin))))',
      body,
    )
    expect(request).toEqual({
      op: 'deploy',
      workflow: { '1': prompt['1'], '2': prompt['2'] },
      workflowPath: null,
      appName: 'flow',
      workingDirectory: null,
      pipPackages: ['einops', 'kornia'],
      aptPackages: ['ffmpeg'],
      gpu: 'A10G',
      deploy: true,
      dryRun: false,
      cleanBuild: true,
      forceRebuild: false,
      deleteApp: false,
      models: ['https://h/m.safetensors=checkpoints/m.safetensors'],
      modelsSecret: 'hf',
      volume: 'vol',
      memorySnapshot: true,
      gpuSnapshot: false,
      warmup: true,
      startupTimeoutSeconds: 1200,
    })
  })

  it('the dialog refuses what the pack would refuse: GPU snapshot alone, a bad startup timeout', () => {
    const prompt = {
      '1': { class_type: 'ComfyRemoteInput', inputs: { key: 'image' } },
      '2': { class_type: 'ComfyRemoteOutput', inputs: { key: 'result', value: ['1', 0] } },
    }
    expect(() => buildDeployBody(prompt, { ...DEFAULT_DEPLOY_FORM, gpuSnapshot: true })).toThrow(
      /GPU snapshot needs Memory snapshot/,
    )
    for (const startupTimeout of ['5', '3601', '1.5', ''])
      expect(() => buildDeployBody(prompt, { ...DEFAULT_DEPLOY_FORM, startupTimeout })).toThrow(
        /Startup timeout must be whole seconds in 10\.\.3600/,
      )
    const ok = buildDeployBody(prompt, { ...DEFAULT_DEPLOY_FORM, memorySnapshot: true, gpuSnapshot: true })
    expect([ok.memorySnapshot, ok.gpuSnapshot, ok.warmup, ok.startupTimeoutSeconds]).toEqual([
      true,
      true,
      false,
      900,
    ])
  })
})
