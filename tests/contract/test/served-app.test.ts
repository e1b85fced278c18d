// (c) the generated Modal app served locally (`comfy-remote-modal serve`) over the fake ComfyUI.
import type { FakeComfyUI } from '@comfy-remote/io-helpers/testing'
import { findServePython } from '@comfy-remote/modal-scaffolder'
import { afterAll, beforeAll, describe } from 'vitest'
import { BODY_LIMIT, startFakeComfy, startServedApp, stopAll, TOKEN } from '../src/start.js'
import { conformance } from '../src/suite.js'
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
