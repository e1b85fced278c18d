// The Modal scaffolder's generated project for each example (CLI as a process): it compiles, its job
// runner (the code the Modal GPU class runs) executes the example request against the fake ComfyUI,
// and returns the same outputs as the mock worker's comfyui engine against the same fake ComfyUI.
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { asJson } from './support/envelopes.js'
import { type ExampleName, exampleFile, exampleNames, repoRoot } from './support/paths.js'
import { bins, runNode, stopAll } from './support/processes.js'
import { fakeComfyUrl, workerUrl } from './support/shared.js'

const python = process.env.PYTHON ?? 'python3'
const outRoot = mkdtempSync(join(tmpdir(), 'comfy-remote-e2e-modal-'))

function runPython(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(python, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString('utf8')
  })
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString('utf8')
  })
  const timer = setTimeout(() => child.kill('SIGKILL'), 45_000)
  return new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

const scaffold = (name: ExampleName, extra: string[] = []) =>
  runNode(
    bins.modal,
    [
      'scaffold',
      '--workflow',
      exampleFile(name, 'prompt.json'),
      '--out',
      outRoot,
      '--app-name',
      name,
      ...extra,
    ],
    {
      timeoutMs: 30_000,
    },
  )

afterAll(async () => {
  await stopAll()
  rmSync(outRoot, { recursive: true, force: true })
})

describe.each(exampleNames)('example %s as a generated Modal project', (name) => {
  const dir = join(outRoot, name)

  it('scaffolds, keeps the prompt, and the Python compiles', async () => {
    const result = await scaffold(name)
    expect(result.stderr).not.toMatch(/error/i)
    expect(result.code).toBe(0)
    for (const file of ['prompt.json', 'modal_config.json', 'workflow.py', 'comfy_runner.py']) {
      expect(existsSync(join(dir, file))).toBe(true)
    }
    expect(JSON.parse(readFileSync(join(dir, 'prompt.json'), 'utf8'))).toEqual(
      JSON.parse(readFileSync(exampleFile(name, 'prompt.json'), 'utf8')),
    )
    const compiled = await runPython([
      '-m',
      'py_compile',
      join(dir, 'workflow.py'),
      join(dir, 'comfy_runner.py'),
    ])
    expect(compiled.stderr).toBe('')
    expect(compiled.code).toBe(0)
  })

  it('its job runner gives the mock worker comfyui engine outputs for request.json', async () => {
    const run = await runPython([
      join(repoRoot, 'tests', 'e2e', 'test', 'support', 'run_generated.py'),
      dir,
      fakeComfyUrl(),
      exampleFile(name, 'request.json'),
    ])
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    const generated = JSON.parse(run.stdout) as {
      status: string
      outputs: Record<string, unknown>
      progress: unknown[]
    }
    expect(generated.status).toBe('completed')
    expect(generated.progress.length).toBeGreaterThan(0)

    // The shared comfyui-engine worker, in front of the same fake ComfyUI.
    const res = await fetch(`${workerUrl('comfyui', name)}/run?wait=30`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: readFileSync(exampleFile(name, 'request.json')),
      signal: AbortSignal.timeout(30_000),
    })
    const envelope = (await res.json()) as { status: string; outputs: Record<string, unknown> }
    expect(envelope.status).toBe('completed')
    expect(asJson(generated.outputs)).toEqual(asJson(envelope.outputs))
  })
})

it('a hostile app name is refused before anything is written', async () => {
  const result = await scaffold('image-invert', ['--app-name', 'x"; import os; os.system("id") #'])
  expect(result.code).not.toBe(0)
  expect(result.stderr.trim().split('\n').length).toBeLessThanOrEqual(3)
  expect(existsSync(join(outRoot, 'x"; import os; os.system("id") #'))).toBe(false)
})
