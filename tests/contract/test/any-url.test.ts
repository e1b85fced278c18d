// Any worker: CONTRACT_URL=https://... [CONTRACT_TOKEN=...] [CONTRACT_BODY_LIMIT=bytes] npx vitest run test/any-url.test.ts
import { describe } from 'vitest'
import { conformance } from '../src/suite.js'
import type { Target } from '../src/target.js'

const url = process.env.CONTRACT_URL?.replace(/\/+$/, '')
const limit = Number(process.env.CONTRACT_BODY_LIMIT)
const target: Target = {
  name: url ?? 'none',
  url: url ?? '',
  ...(process.env.CONTRACT_TOKEN ? { token: process.env.CONTRACT_TOKEN } : {}),
  ...(Number.isFinite(limit) && limit > 0 ? { bodyLimit: limit } : {}),
}

describe.runIf(url !== undefined)(`contract: ${target.name}`, () => conformance(() => target))
