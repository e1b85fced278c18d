// (c) the generated Modal app served locally (`comfy-remote-modal serve`, the CLI) over the fake ComfyUI,
// and the remote-client CLI calling it as a user would.

import { execFile } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import type { FakeComfyUI } from '@comfy-remote/io-helpers/testing'
import { findServePython } from '@comfy-remote/modal-scaffolder'
import { decodeNpy, decodePng } from '@comfy-remote/protocol'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BODY_LIMIT, REPO, startFakeComfy, startServedApp, stopAll, TOKEN, tempDir } from '../src/start.js'
import { conformance, imageNpy } from '../src/suite.js'
import type { Target } from '../src/target.js'

function servePython(): string | undefined {
  try {
    return findServePython().python
  } catch (error) {
    console.warn(
      `contract: SKIPPED the generated Modal app (target c): ${(error as Error).message} ` +
        '(.ci/run installs python3-fastapi python3-uvicorn python3-websocket)',
    )
    return undefined
  }
}

const python = servePython()
let target: Target
let fake: FakeComfyUI | undefined
beforeAll(async () => {
  if (python === undefined) return
  const started = await startFakeComfy()
  fake = started.fake
  const url = await startServedApp(fake.url, python)
  target = {
    name: 'generated Modal app (serve)',
    url,
    token: TOKEN,
    bodyLimit: BODY_LIMIT,
    browserGuard: true,
    comfyui: { interrupts: started.interrupts },
    injectsFailures: true,
    slowJobs: true,
  }
})
afterAll(async () => {
  await stopAll()
  await fake?.close()
})

describe.runIf(python !== undefined)('contract: generated Modal app, served locally', () =>
  conformance(() => target),
)

describe.runIf(python !== undefined)('comfy-remote call against `comfy-remote-modal serve`', () => {
  it('writes the outputs the served app computed: the image with the same pixels, the label as JSON', async () => {
    const dir = tempDir()
    const npy = imageNpy(16, 16, 9)
    writeFileSync(join(dir, 'in.npy'), npy)
    const out = join(dir, 'out')
    const cli = join(REPO, 'packages', 'remote-client', 'dist', 'cli.js')
    // async: the fake ComfyUI answers from this process's event loop
    const run = await promisify(execFile)(
      process.execPath,
      [
        cli,
        'call',
        target.url,
        '--input',
        `image=@${join(dir, 'in.npy')}`,
        '--input',
        'label=from the CLI',
        '--out',
        out,
        '-q',
      ],
      { encoding: 'utf8', timeout: 60_000, env: { ...process.env, COMFY_REMOTE_TOKEN: TOKEN } },
    )
    expect(run.stderr).toBe('')
    // an IMAGE output is written as PNG: the same pixels, 8-bit
    const png = decodePng(new Uint8Array(readFileSync(join(out, 'image.png'))))
    const sent = decodeNpy(npy)
    expect(png.shape).toEqual([1, 16, 16, 3])
    const expected = Array.from(sent.data as Float32Array, (v) => Math.round(v * 255))
    expect(Array.from(png.data as Float32Array, (v) => Math.round(v * 255))).toEqual(expected)
    expect(JSON.parse(readFileSync(join(out, 'label.json'), 'utf8'))).toBe('from the CLI')
  })
})
