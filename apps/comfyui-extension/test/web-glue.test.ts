import { join } from 'node:path'
import { build } from 'esbuild'
import { beforeAll, describe, expect, it } from 'vitest'
import { PACK_DIR } from './helpers/bridge.js'

/** Bundles src/web/main.ts with /scripts/app.js and /scripts/api.js served from globalThis fakes, then loads it. */
interface FakeNode {
  id: number
  comfyClass: string
  mode?: number
  size: number[]
  inputs: { name: string; type: string; link: number | null; label?: string }[]
  widgets: { name: string; value: unknown; callback?: (v: unknown) => void }[]
  properties?: Record<string, unknown>
  addInput(name: string, type: string): void
  setDirtyCanvas(): void
}

const listeners = new Map<string, ((e: unknown) => void)[]>()
const toasts: { severity: string; summary: string; detail: string }[] = []
const fetched: string[] = []
let schemaBody: unknown = {}
let extension: Record<string, (...args: unknown[]) => unknown> & { name: string }
const nodes: FakeNode[] = []

function node(
  id: number,
  comfyClass: string,
  widgets: Record<string, unknown>,
  inputs: FakeNode['inputs'] = [],
): FakeNode {
  const n: FakeNode = {
    id,
    comfyClass,
    size: [200, 100],
    inputs,
    widgets: Object.entries(widgets).map(([name, value]) => ({ name, value })),
    addInput(name, type) {
      this.inputs.push({ name, type, link: null })
    },
    setDirtyCanvas() {},
  }
  nodes.push(n)
  return n
}

beforeAll(async () => {
  const g = globalThis as Record<string, unknown>
  g.__crFakeApp = {
    registerExtension: (ext: typeof extension) => {
      extension = ext
    },
    graph: { nodes, getNodeById: (id: unknown) => nodes.find((n) => String(n.id) === String(id)) },
    extensionManager: { toast: { add: (t: (typeof toasts)[number]) => toasts.push(t) } },
    canvas: { setDirty() {} },
  }
  g.__crFakeApi = {
    addEventListener: (type: string, fn: (e: unknown) => void) =>
      listeners.set(type, [...(listeners.get(type) ?? []), fn]),
    removeEventListener() {},
    fetchApi: async (path: string) => {
      fetched.push(path)
      return { ok: true, status: 200, statusText: 'OK', json: async () => schemaBody }
    },
  }
  const out = await build({
    entryPoints: [join(PACK_DIR, 'src', 'web', 'main.ts')],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'neutral',
    logLevel: 'silent',
    plugins: [
      {
        name: 'fake-comfy',
        setup(b) {
          b.onResolve({ filter: /^\/scripts\/(app|api)\.js$/ }, (a) => ({ path: a.path, namespace: 'fake' }))
          b.onLoad({ filter: /.*/, namespace: 'fake' }, (a) => ({
            contents: a.path.endsWith('app.js')
              ? 'export const app = globalThis.__crFakeApp'
              : 'export const api = globalThis.__crFakeApi',
            loader: 'js',
          }))
        },
      },
    ],
  })
  const code = out.outputFiles[0]?.text ?? ''
  await import(`data:text/javascript;base64,${Buffer.from(code).toString('base64')}`)
  await extension.setup?.(g.__crFakeApp)
})

function emit(type: string, detail: unknown) {
  for (const fn of listeners.get(type) ?? []) fn({ detail })
}

describe('frontend extension glue (fake app/api)', () => {
  it('registers a namespaced extension with the deploy command and menu', () => {
    expect(extension.name).toMatch(/^comfyRemote\./)
    const commands = extension.commands as unknown as { id: string; label: string }[]
    expect(commands.map((c) => c.id)).toEqual([
      'comfyRemote.deployWorkflow',
      'comfyRemote.loadInputsFromEndpoint',
    ])
    expect(JSON.stringify(extension.menuCommands)).toContain('comfyRemote.deployWorkflow')
  })

  it('listens for comfy-remote.deploy from setup (api.ts drops custom message types nobody registered)', () => {
    expect(listeners.get('comfy-remote.deploy')).toHaveLength(1)
  })

  it('Remote API inside a subgraph: status for execution id "30:12" is drawn on that node only', () => {
    class RemoteApi {}
    extension.beforeRegisterNodeDef?.(RemoteApi, { name: 'ComfyRemoteNode' }, {})
    const draw = (RemoteApi.prototype as { onDrawForeground(this: unknown, ctx: unknown): void })
      .onDrawForeground
    const inner = { id: 12, comfyClass: 'ComfyRemoteNode', size: [200, 100], setDirtyCanvas() {} }
    const rootTwin = node(12, 'ComfyRemoteNode', { url: '' })
    Object.assign(node(30, 'Subgraph', {}), {
      subgraph: { getNodeById: (id: unknown) => (String(id) === '12' ? inner : null) },
    })
    emit('execution_start', { prompt_id: 'p' })
    emit('progress_text', { nodeId: '30:12', text: 'inner job running' })
    emit('progress', { node: '30:12', value: 1, max: 4, prompt_id: 'p' })
    const drawnOn = (n: unknown) => {
      const drawn: string[] = []
      draw.call(n, { save() {}, restore() {}, fillText: (t: string) => drawn.push(t) })
      return drawn
    }
    expect(drawnOn(inner)).toEqual(['25% (1/4) - inner job running'])
    expect(drawnOn(rootTwin)).toEqual([])
  })

  it('Remote API: "Load inputs from endpoint" labels and types slots and fills input_names', async () => {
    class RemoteApi {}
    extension.beforeRegisterNodeDef?.(RemoteApi, { name: 'ComfyRemoteNode' }, {})
    const proto = RemoteApi.prototype as {
      getExtraMenuOptions(this: FakeNode, c: unknown, o: { content: string; callback(): void }[]): void
      onDrawForeground(this: FakeNode, ctx: unknown): void
    }
    const api = node(10, 'ComfyRemoteNode', { url: 'https://me--app.modal.run', input_names: '' }, [
      { name: 'input_1_$remote_inputs_ag$', type: '*', link: null },
    ])
    schemaBody = {
      schema: {
        inputs: [
          { name: 'image', type: 'IMAGE', required: true },
          { name: 'seed', type: 'INT', required: false },
        ],
        outputs: [],
      },
    }
    const options: { content: string; callback(): void }[] = []
    proto.getExtraMenuOptions.call(api, {}, options)
    const item = options.find((o) => o.content === 'Load inputs from endpoint')
    expect(item).toBeTruthy()
    item?.callback()
    await new Promise((r) => setTimeout(r, 20))
    expect(fetched.at(-1)).toBe('/comfy-remote/schema?url=https%3A%2F%2Fme--app.modal.run')
    expect(api.inputs).toEqual([
      { name: 'input_1_$remote_inputs_ag$', type: 'IMAGE', link: null, label: 'image' },
      { name: 'input_2_$remote_inputs_ag$', type: 'INT', link: null, label: 'seed (optional)' },
    ])
    expect(api.widgets.find((w) => w.name === 'input_names')?.value).toBe('image, seed')
    expect(toasts.at(-1)?.severity).toBe('success')

    // Live status text: progress_text and progress messages for this node are drawn under it.
    const drawn: string[] = []
    const ctx = { save() {}, restore() {}, fillText: (t: string) => drawn.push(t) }
    emit('progress_text', { nodeId: '10', text: 'remote job running' })
    emit('progress', { node: '10', value: 3, max: 10, prompt_id: 'p' })
    proto.onDrawForeground.call(api, ctx)
    expect(drawn).toEqual(['30% (3/10) - remote job running'])

    // Newer ComfyUI's execution.set_progress sends only progress_state; finished entries are ignored.
    const entry = (value: number, state: string) => ({
      value,
      max: 10,
      state,
      node_id: '10',
      display_node_id: '10',
    })
    emit('progress_state', { prompt_id: 'p', nodes: { '10': entry(5, 'running') } })
    emit('progress_state', { prompt_id: 'p', nodes: { '10': entry(10, 'finished') } })
    drawn.length = 0
    proto.onDrawForeground.call(api, ctx)
    expect(drawn).toEqual(['50% (5/10) - remote job running'])
  })

  it('Remote API: an endpoint error becomes an error toast, slots unchanged', async () => {
    class RemoteApi {}
    extension.beforeRegisterNodeDef?.(RemoteApi, { name: 'ComfyRemoteNode' }, {})
    const api = node(11, 'ComfyRemoteNode', { url: 'http://127.0.0.1:1' }, [
      { name: 'input_1', type: '*', link: null },
    ])
    schemaBody = { error: { code: 'NETWORK', message: 'connection refused' } }
    const options: { content: string; callback(): void }[] = []
    ;(
      RemoteApi.prototype as { getExtraMenuOptions: (this: FakeNode, c: unknown, o: unknown[]) => void }
    ).getExtraMenuOptions.call(api, {}, options)
    options[0]?.callback()
    await new Promise((r) => setTimeout(r, 20))
    expect(toasts.at(-1)).toMatchObject({ severity: 'error', detail: 'NETWORK: connection refused' })
    expect(api.inputs).toEqual([{ name: 'input_1', type: '*', link: null }])
  })

  it('Remote Input/Output: duplicate keys are warned about and drawn on the nodes', async () => {
    class RemoteOutput {}
    extension.beforeRegisterNodeDef?.(RemoteOutput, { name: 'ComfyRemoteOutput' }, {})
    const a = node(20, 'ComfyRemoteOutput', { key: 'result' })
    const b = node(21, 'ComfyRemoteOutput', { key: 'other' })
    extension.nodeCreated?.(a, {})
    extension.nodeCreated?.(b, {})
    await new Promise((r) => setTimeout(r, 0))
    const before = toasts.length
    const key = b.widgets[0]
    key!.value = 'result'
    key!.callback?.('result')
    expect(toasts.length).toBe(before + 1)
    expect(toasts.at(-1)?.detail).toBe('output "result": nodes #20, #21')
    const drawn: string[] = []
    const ctx = { save() {}, restore() {}, fillText: (t: string) => drawn.push(t) }
    ;(
      RemoteOutput.prototype as { onDrawForeground: (this: FakeNode, ctx: unknown) => void }
    ).onDrawForeground.call(a, ctx)
    expect(drawn).toEqual(['Remote Output key "result" is also used by #21: rename one of them.'])
  })
})
