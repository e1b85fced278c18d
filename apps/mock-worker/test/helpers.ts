import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { EncodedValue } from '@comfy-remote/protocol'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../src/app.js'
import type { WorkerOptions } from '../src/options.js'

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures')

export function fixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(FIXTURES, name), 'utf8')) as Record<string, unknown>
}

export const echoPrompt = (): Record<string, unknown> => fixture('echo-prompt.json')

export const imageValue = (data: unknown = [[0.25, 0.5]]): EncodedValue => ({
  type: 'IMAGE',
  encoding: 'json',
  data,
})

/** An echo worker on the fixture workflow; close it in afterAll/afterEach. */
export function echoApp(options: Partial<WorkerOptions> = {}): Promise<FastifyInstance> {
  return buildApp({ workflow: echoPrompt(), steps: 2, stepMs: 1, docs: false, ...options })
}

export async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 10))
  }
}
