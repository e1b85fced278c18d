// Each example served by the mock worker's comfyui engine in front of the fake ComfyUI server from
// @comfy-remote/io-helpers/testing (both real processes on real ports), called with remote-client.
// The fake executes Remote Input / Remote Output for real and passes other nodes' first linked input
// through, so every output is the value of the Remote Input upstream of it.
import { createServer } from 'node:net'
import { base64ToBytes, decodeNpy, type EncodedValue } from '@comfy-remote/protocol'
import { createRemoteClient, isRemoteJobError } from '@comfy-remote/remote-client'
import { afterAll, describe, expect, it } from 'vitest'
import { type ExampleName, exampleFile, exampleNames, readExample } from './support/paths.js'
import { bins, startServer, stopAll } from './support/processes.js'
import { workerUrl } from './support/shared.js'

type Value = EncodedValue
// The shared comfyui-engine workers (global setup), in front of the shared fake ComfyUI.
const workers = { get: (name: ExampleName) => workerUrl('comfyui', name) }

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise((resolve) => server.close(resolve))
  return typeof address === 'object' && address ? address.port : 0
}

const comfyWorker = (name: ExampleName, comfyuiUrl: string) =>
  startServer(bins.mockWorker, [
    '--workflow',
    exampleFile(name, 'prompt.json'),
    '--port',
    '0',
    '--engine',
    'comfyui',
    '--comfyui-url',
    comfyuiUrl,
  ])

afterAll(stopAll)

function pixels(value: Value | undefined): { shape: number[]; data: number[] } {
  const bytes = typeof value?.data === 'string' ? base64ToBytes(value.data) : (value?.data as Uint8Array)
  const array = decodeNpy(bytes)
  return { shape: [...array.shape], data: Array.from(array.data as ArrayLike<number>) }
}

describe.each(exampleNames)('example %s (comfyui engine, fake ComfyUI)', (name) => {
  const request = readExample<{ inputs: Record<string, Value> }>(name, 'request.json')

  it.each(['json', 'multipart'] as const)(
    'remote-client (%s) gets every Remote Output',
    async (transport) => {
      const client = createRemoteClient({ url: workers.get(name)!, transport, timeout: 30_000 })
      const progress: number[] = []
      const job = await client.run(request.inputs, { onProgress: (p) => progress.push(p.value / p.max) })
      expect(job.status).toBe('completed')
      const outputs = job.outputs as Record<string, Value>
      const schema = await client.schema()
      expect(Object.keys(outputs).sort()).toEqual(schema.outputs.map((o) => o.name).sort())
      // The image reached every output fed from the image input, number for number.
      const sent = pixels(request.inputs.image)
      const imageOutputs = {
        'image-invert': ['image'],
        'typed-inputs': ['image'],
        'multi-output': ['mask', 'width'],
      }[name]
      for (const key of imageOutputs) expect(pixels(outputs[key])).toEqual(sent)
      for (const [key, value] of Object.entries(request.inputs)) {
        if (value.encoding === 'json' && outputs[key]) expect(outputs[key]?.data).toEqual(value.data)
      }
      expect(progress).toEqual([...progress].sort((a, b) => a - b))
    },
  )
})

it('typed-inputs: an input left out runs its fallback', async () => {
  const client = createRemoteClient({ url: workers.get('typed-inputs')!, timeout: 30_000 })
  const job = await client.run({ seed: { type: 'INT', encoding: 'json', data: 3 } })
  expect(job.status).toBe('completed')
  // Remote Input "prompt" falls back to the PrimitiveString node's value.
  expect((job.outputs as Record<string, Value>).prompt).toMatchObject({
    encoding: 'json',
    data: 'a watercolor fox',
  })
})

describe('comfyui engine failure paths', () => {
  it('a cancelled run ends cancelled on the worker', async () => {
    const slowComfy = (await startServer(bins.fakeComfy, ['--port', '0', '--delay-ms', '2000'])).url
    const worker = (await comfyWorker('image-invert', slowComfy)).url
    const client = createRemoteClient({ url: worker, timeout: 30_000, pollInterval: 100 })
    const controller = new AbortController()
    let jobId: string | undefined
    const run = client.run(
      readExample<{ inputs: Record<string, Value> }>('image-invert', 'request.json').inputs,
      {
        signal: controller.signal,
        onStatus: (status, env) => {
          jobId ??= env.jobId
          if (status === 'running') controller.abort()
        },
      },
    )
    const fallback = setTimeout(() => controller.abort(), 1_500)
    const error = await run.then(
      () => undefined,
      (e: unknown) => e,
    )
    clearTimeout(fallback)
    expect(isRemoteJobError(error) && error.code).toBe('CANCELLED')
    expect(jobId).toBeTypeOf('string')
    const deadline = Date.now() + 10_000
    let status = ''
    while (Date.now() < deadline && status !== 'cancelled') {
      status = ((await (await fetch(`${worker}/jobs/${jobId}`)).json()) as { status: string }).status
      if (status !== 'cancelled') await new Promise((r) => setTimeout(r, 100))
    }
    expect(status).toBe('cancelled')
  })

  it('ComfyUI not reachable: the job fails with COMFYUI_UNAVAILABLE and the worker keeps serving', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`
    const worker = (await comfyWorker('image-invert', dead)).url
    const client = createRemoteClient({ url: worker, timeout: 30_000, retry: 0 })
    const error = await client
      .run(readExample<{ inputs: Record<string, Value> }>('image-invert', 'request.json').inputs)
      .then(
        () => undefined,
        (e: unknown) => e,
      )
    expect(isRemoteJobError(error)).toBe(true)
    const code = isRemoteJobError(error) ? (error.envelope?.error?.code ?? error.code) : ''
    expect(code).toBe('COMFYUI_UNAVAILABLE')
    const health = await fetch(`${worker}/health`, { signal: AbortSignal.timeout(5_000) })
    expect(health.status).toBeLessThan(600)
  })
})
