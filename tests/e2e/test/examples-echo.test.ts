// Each example served by the mock worker (echo engine, a real process on a real port): the example's
// request.json gives exactly its response.json, remote-client gets the same outputs over both
// transports, and the UI-format workflow.json serves the same contract as prompt.json.
// UPDATE_EXAMPLES=1 rewrites the response.json files from what the worker answers.
import { writeFileSync } from 'node:fs'
import { createRemoteClient } from '@comfy-remote/remote-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { asJson, normalizeEnvelope } from './support/envelopes.js'
import { type ExampleName, exampleFile, exampleNames, readExample } from './support/paths.js'
import { bins, type Started, startServer, stopAll } from './support/processes.js'
import { workerUrl } from './support/shared.js'

const update = process.env.UPDATE_EXAMPLES === '1'
const servers = new Map<string, Started>()

// prompt.json is served by the shared echo workers (global setup); workflow.json by workers of our own.
beforeAll(async () => {
  const started = await Promise.all(
    exampleNames.map((name) =>
      startServer(bins.mockWorker, [
        '--workflow',
        exampleFile(name, 'workflow.json'),
        '--port',
        '0',
        '--step-ms',
        '10',
      ]).then((s) => [name, s] as const),
    ),
  )
  for (const [name, server] of started) servers.set(name, server)
})
afterAll(stopAll)

const expectedTypes: Record<ExampleName, Record<string, string>> = {
  'image-invert': { image: 'IMAGE' },
  'typed-inputs': { prompt: 'STRING', seed: 'INT', strength: 'FLOAT', image: 'IMAGE' },
  'multi-output': { image: 'IMAGE', caption: 'STRING', mask: 'MASK', width: 'INT' },
}

const urlOf = (name: ExampleName, form: 'api' | 'ui' = 'api') =>
  form === 'api' ? workerUrl('echo', name) : servers.get(name)!.url

describe.each(exampleNames)('example %s (echo engine)', (name) => {
  const request = readExample<{ inputs: Record<string, never> }>(name, 'request.json')

  it('POST /run?wait= with request.json answers response.json', async () => {
    const res = await fetch(`${urlOf(name)}/run?wait=30`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(request),
      signal: AbortSignal.timeout(30_000),
    })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^application\/json/)
    const body = (await res.json()) as Record<string, unknown>
    if (update) writeFileSync(exampleFile(name, 'response.json'), `${JSON.stringify(body, null, 2)}\n`)
    expect(body.status).toBe('completed')
    expect(normalizeEnvelope(body)).toEqual(normalizeEnvelope(readExample(name, 'response.json')))
  })

  it.each(['json', 'multipart'] as const)(
    'remote-client (%s transport) gets the outputs of response.json',
    async (transport) => {
      const client = createRemoteClient({ url: urlOf(name), transport, timeout: 30_000 })
      const progress: number[] = []
      const job = await client.run(request.inputs, { onProgress: (p) => progress.push(p.value / p.max) })
      const expected = readExample<{ outputs: Record<string, unknown> }>(name, 'response.json')
      expect(job.status).toBe('completed')
      expect(asJson(job.outputs)).toEqual(expected.outputs)
      expect(progress.length).toBeGreaterThan(0)
      expect(progress).toEqual([...progress].sort((a, b) => a - b))
      expect(progress.at(-1)).toBe(1)
    },
  )

  it('workflow.json (UI format) and prompt.json serve the same /schema, with ComfyUI types', async () => {
    type Schema = {
      inputs: { name: string; type: string; required: boolean }[]
      outputs: { name: string; type: string }[]
    }
    const [api, ui] = await Promise.all(
      (['api', 'ui'] as const).map(async (form) => {
        const res = await fetch(`${urlOf(name, form)}/schema`, { signal: AbortSignal.timeout(10_000) })
        expect(res.status).toBe(200)
        return (await res.json()) as Schema
      }),
    )
    const shape = (s: Schema) => ({
      inputs: s.inputs.map((i) => [i.name, i.required]),
      outputs: s.outputs.map((o) => o.name),
    })
    expect(shape(ui!)).toEqual(shape(api!))
    expect(ui).toEqual(api)
    // Converted with an object_info, the worker knows what each Remote node connects to.
    const types = Object.fromEntries([...ui!.inputs, ...ui!.outputs].map((v) => [v.name, v.type]))
    expect(types).toEqual(expectedTypes[name])
  })
})
