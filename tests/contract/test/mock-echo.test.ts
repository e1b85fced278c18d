// (a) the mock worker, echo engine.
import { afterAll, beforeAll, describe } from 'vitest'
import { BODY_LIMIT, startMockWorker, stopAll, TOKEN } from '../src/start.js'
import { conformance } from '../src/suite.js'
import type { Target } from '../src/target.js'

let target: Target
beforeAll(async () => {
  const url = await startMockWorker('echo')
  target = {
    name: 'mock worker (echo)',
    url,
    token: TOKEN,
    bodyLimit: BODY_LIMIT,
    browserGuard: true,
    slowJobs: true,
  }
})
afterAll(stopAll)

describe('contract: mock worker, echo engine', () => conformance(() => target))
