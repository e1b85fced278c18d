// (b) the mock worker, comfyui engine, over the io-helpers fake ComfyUI.
import type { FakeComfyUI } from '@comfy-remote/io-helpers/testing'
import { afterAll, beforeAll, describe } from 'vitest'
import { BODY_LIMIT, startFakeComfy, startMockWorker, stopAll, TOKEN } from '../src/start.js'
import { conformance } from '../src/suite.js'
import type { Target } from '../src/target.js'

let target: Target
let fake: FakeComfyUI | undefined
beforeAll(async () => {
  const started = await startFakeComfy()
  fake = started.fake
  const url = await startMockWorker('comfyui', fake.url)
  target = {
    name: 'mock worker (comfyui)',
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

describe('contract: mock worker, comfyui engine', () => conformance(() => target))
