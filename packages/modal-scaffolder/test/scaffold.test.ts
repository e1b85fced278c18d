import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { zWorkflowSchema } from '@comfy-remote/protocol'
import { afterAll, describe, expect, it } from 'vitest'
import { type ScaffoldOptions, scaffoldModalProject } from '../src/index.js'
import { cleanupTempDirs, FIXTURES, hasRealNodePack, nodePackDir, OBJECT_INFO, tempDir } from './helpers.js'

afterAll(cleanupTempDirs)

const GOLDEN = join(import.meta.dirname, '__golden__')
const GOLDEN_FILES = [
  'workflow.py',
  'modal_config.json',
  'prompt.json',
  'README.md',
  '.comfy-remote-modal.json',
]

const CASES: Array<[string, Omit<ScaffoldOptions, 'outDir' | 'nodePackDir'>]> = [
  [
    'default',
    { workflow: join(FIXTURES, 'echo-prompt.json'), appName: 'echo-app', buildNonce: 'nonce-default' },
  ],
  [
    'custom',
    {
      workflow: join(FIXTURES, 'typed-inputs.prompt.json'),
      appName: 'typed.inputs_v2',
      gpu: 'A100-80GB:2',
      pipPackages:
        'opencv-python-headless==4.10.0.84,\nsegment-anything @ git+https://github.com/facebookresearch/segment-anything.git',
      aptPackages: ['libgl1', 'libglib2.0-0'],
      torchPreset: 'cu121-legacy',
      comfyuiRef: 'a125cd84b054a57729b5eecab930ca9408719832',
      auth: 'proxy',
      minContainers: 1,
      maxContainers: 3,
      jobTimeoutSeconds: 600,
      buildNonce: 'nonce-custom',
    },
  ],
  [
    'ui-format',
    {
      workflow: join(FIXTURES, 'image-invert.ui.json'),
      objectInfo: OBJECT_INFO,
      appName: 'ui-app',
      torchPreset: 'none',
      auth: 'none',
      buildNonce: 'nonce-ui',
    },
  ],
  [
    'models',
    {
      workflow: join(FIXTURES, 'echo-prompt.json'),
      appName: 'models-app',
      models: [
        'https://huggingface.co/stable-diffusion-v1-5/stable-diffusion-v1-5/resolve/main/v1-5-pruned-emaonly.safetensors?download=true=checkpoints/v1-5.safetensors',
        {
          url: 'https://example.com/files/detail.safetensors',
          path: 'loras/sd15/detail.safetensors',
          sha256: 'AB'.repeat(32),
        },
      ],
      modelsSecret: 'hf-token',
      volume: 'comfy-models',
      buildNonce: 'nonce-models',
    },
  ],
  [
    'snapshot',
    {
      workflow: join(FIXTURES, 'echo-prompt.json'),
      appName: 'snap-app',
      memorySnapshot: true,
      warmup: true,
      startupTimeoutSeconds: 1200,
      buildNonce: 'nonce-snapshot',
    },
  ],
]

describe.each(CASES)('scaffold: %s', (name, options) => {
  it('matches the golden files and compiles', async () => {
    const outDir = tempDir()
    const result = await scaffoldModalProject({ ...options, outDir, nodePackDir: nodePackDir() })
    expect(result.dir).toBe(join(outDir, options.appName))
    const ours = result.files.filter((f) => !f.startsWith('custom_nodes/'))
    await expect(`${ours.join('\n')}\n`).toMatchFileSnapshot(join(GOLDEN, name, 'FILES.txt'))
    for (const file of GOLDEN_FILES)
      await expect(readFileSync(join(result.dir, file), 'utf8')).toMatchFileSnapshot(join(GOLDEN, name, file))
    expect(result.files).toContain('custom_nodes/comfy_remote/__init__.py')
    const py = result.files.filter((f) => f.endsWith('.py')).map((f) => join(result.dir, f))
    execFileSync('python3', ['-m', 'py_compile', ...py], { stdio: 'pipe', timeout: 30_000 })
  })
})

describe('scaffold details', () => {
  it('converts UI format with object_info and types the contract', async () => {
    const result = await scaffoldModalProject({
      workflow: join(FIXTURES, 'image-invert.ui.json'),
      objectInfo: OBJECT_INFO,
      outDir: tempDir(),
      appName: 'typed',
      nodePackDir: nodePackDir(),
    })
    expect(result.config.contract.inputs).toEqual([
      { name: 'image', nodeId: '1', type: 'IMAGE', required: true },
    ])
    expect(result.config.contract.outputs).toEqual([{ name: 'image', nodeId: '3', type: 'IMAGE' }])
    // GET /schema serves the contract plus transports: it must satisfy the protocol's schema
    expect(
      zWorkflowSchema.parse({ ...result.config.contract, transports: ['json', 'multipart'] }),
    ).toBeTruthy()
    const prompt = JSON.parse(readFileSync(join(result.dir, 'prompt.json'), 'utf8'))
    expect(prompt['2'].class_type).toBe('ImageInvert')
  })

  it('refuses UI format without object_info, naming the fix', async () => {
    await expect(
      scaffoldModalProject({
        workflow: join(FIXTURES, 'image-invert.ui.json'),
        outDir: tempDir(),
        appName: 'x',
        nodePackDir: nodePackDir(),
      }),
    ).rejects.toMatchObject({
      code: 'WORKFLOW_INVALID',
      message: expect.stringContaining('objectInfo'),
    })
  })

  it('refuses a workflow without Remote Output', async () => {
    const workflow = {
      '1': { class_type: 'EmptyImage', inputs: { width: 8, height: 8, batch_size: 1, color: 0 } },
    }
    await expect(
      scaffoldModalProject({ workflow, outDir: tempDir(), appName: 'x', nodePackDir: nodePackDir() }),
    ).rejects.toMatchObject({ code: 'WORKFLOW_INVALID' })
  })

  it('keeps the build nonce when scaffolding the same project again', async () => {
    const outDir = tempDir()
    const opts = {
      workflow: join(FIXTURES, 'echo-prompt.json'),
      outDir,
      appName: 'again',
      nodePackDir: nodePackDir(),
    }
    const first = await scaffoldModalProject(opts)
    const second = await scaffoldModalProject({ ...opts, overwrite: true })
    expect(second.config.build_nonce).toBe(first.config.build_nonce)
  })

  it('refuses to regenerate its own project without overwrite (OUTPUT_EXISTS names both fixes)', async () => {
    const opts = {
      workflow: join(FIXTURES, 'echo-prompt.json'),
      outDir: tempDir(),
      appName: 'twice',
      nodePackDir: nodePackDir(),
    }
    await scaffoldModalProject(opts)
    const error = await scaffoldModalProject(opts).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'OUTPUT_EXISTS' })
    expect(String((error as Error).message)).toMatch(/--overwrite.*--clean/)
  })

  it.runIf(hasRealNodePack())('copies the node pack without bridge/web folders', async () => {
    const result = await scaffoldModalProject({
      workflow: join(FIXTURES, 'echo-prompt.json'),
      outDir: tempDir(),
      appName: 'pack',
    })
    expect(result.files.some((f) => f.startsWith('custom_nodes/comfy_remote/comfy_remote/'))).toBe(true)
    expect(result.files.some((f) => /\/(bridge|web)\//.test(f) || f.endsWith('.pyc'))).toBe(false)
  })
})
