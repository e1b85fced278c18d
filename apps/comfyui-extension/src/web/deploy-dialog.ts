import { api, app } from './comfy.js'
import { onDeployMessage } from './deploy-events.js'
import {
  applyDeployMessage,
  type DeployLogState,
  type DeployMessage,
  deployLogText,
  initialDeployLog,
} from './deploy-log.js'
import { buildDeployBody, DEFAULT_DEPLOY_FORM, type DeployForm } from './deploy-request.js'
import { routeFailure } from './format.js'

const COLORS = { debug: '#888', info: '#ddd', warning: '#fc6', error: '#f77', success: '#7e7' } as const

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Record<string, unknown> = {},
  style = '',
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag)
  Object.assign(node, props)
  if (style) node.setAttribute('style', style)
  return node
}

function field(label: string, input: HTMLInputElement | HTMLTextAreaElement) {
  const row = el('label', {}, 'display:flex;gap:8px;align-items:center;margin:4px 0')
  row.append(el('span', { textContent: label }, 'min-width:150px'), input)
  return row
}

const DIALOG_ID = 'comfy-remote-deploy-dialog'

/** "Deploy this workflow to Modal": form -> POST /comfy-remote/deploy -> live log from websocket messages. */
export function openDeployDialog() {
  // The command palette, the top menu and the canvas menu can all open it: keep one dialog (and one log).
  if (document.getElementById(DIALOG_ID)) return
  const overlay = el(
    'div',
    { id: DIALOG_ID },
    'position:fixed;inset:0;background:#0008;z-index:10000;display:flex;align-items:center;justify-content:center',
  )
  const box = el(
    'div',
    {},
    'background:#222;color:#ddd;padding:16px;border-radius:8px;width:min(760px,92vw);max-height:88vh;display:flex;flex-direction:column;font:13px sans-serif',
  )
  const text = (value: string) => el('input', { value }, 'flex:1')
  const check = (checked: boolean) => el('input', { type: 'checkbox', checked })
  const f = DEFAULT_DEPLOY_FORM
  const inputs = {
    appName: text(f.appName),
    gpu: text(f.gpu),
    pipPackages: text(f.pipPackages),
    aptPackages: text(f.aptPackages),
    deploy: check(f.deploy),
    dryRun: check(f.dryRun),
    cleanBuild: check(f.cleanBuild),
    forceRebuild: check(f.forceRebuild),
    models: el(
      'textarea',
      {
        value: f.models,
        rows: 3,
        placeholder: 'https://huggingface.co/org/repo/resolve/main/m.safetensors=checkpoints/m.safetensors',
      },
      'flex:1;font:12px monospace',
    ),
    modelsSecret: el('input', { value: f.modelsSecret, placeholder: 'Modal Secret with HF_TOKEN' }, 'flex:1'),
    volume: el('input', { value: f.volume, placeholder: 'Modal Volume name' }, 'flex:1'),
    memorySnapshot: check(f.memorySnapshot),
    gpuSnapshot: check(f.gpuSnapshot),
    warmup: check(f.warmup),
    startupTimeout: el(
      'input',
      { type: 'number', min: 10, max: 3600, value: f.startupTimeout },
      'width:90px',
    ),
  }
  const log = el(
    'pre',
    {},
    'flex:1;min-height:160px;overflow:auto;background:#111;padding:8px;margin:8px 0;white-space:pre-wrap',
  )
  const status = el('div', { textContent: 'Exports the current graph in API format and deploys it.' })
  const start = el('button', { textContent: 'Deploy' })
  const copy = el('button', { textContent: 'Copy log' })
  const close = el('button', { textContent: 'Close' })
  const buttons = el('div', {}, 'display:flex;gap:8px;justify-content:flex-end')
  buttons.append(copy, close, start)
  box.append(
    el('h3', { textContent: 'Deploy this workflow to Modal' }, 'margin:0 0 8px'),
    field('App name', inputs.appName),
    field('GPU', inputs.gpu),
    field('Extra pip packages', inputs.pipPackages),
    field('Extra apt packages', inputs.aptPackages),
    field('Models (url=path, one a line)', inputs.models),
    field('Models Secret (HF_TOKEN)', inputs.modelsSecret),
    field('Models Volume', inputs.volume),
    field('Memory snapshot (faster cold starts)', inputs.memorySnapshot),
    field('GPU snapshot (Modal alpha)', inputs.gpuSnapshot),
    field('Warm-up run at container start', inputs.warmup),
    field('Startup timeout (s)', inputs.startupTimeout),
    field('Deploy', inputs.deploy),
    field('Dry run (no Modal call)', inputs.dryRun),
    field('Clean build', inputs.cleanBuild),
    field('Rebuild Modal app', inputs.forceRebuild),
    status,
    log,
    buttons,
  )
  overlay.append(box)
  document.body.append(overlay)

  let state: DeployLogState | null = null
  // Messages can arrive before the POST answers with the deployId: keep them and replay.
  const early: DeployMessage[] = []
  const render = () => {
    if (!state) return
    log.replaceChildren(
      ...state.lines.map((l) => el('div', { textContent: l.text }, `color:${COLORS[l.level]}`)),
    )
    log.scrollTop = log.scrollHeight
    const p = state.progress
    status.textContent = state.error
      ? `Failed: ${state.error.code}`
      : state.done
        ? state.live
          ? `Live at ${state.url}`
          : 'Finished (no live endpoint)'
        : p
          ? `${p.value}/${p.max} ${p.message ?? ''}`
          : 'Starting...'
    start.disabled = !state.done
  }
  const unsubscribe = onDeployMessage((msg) => {
    if (!state) {
      if (early.length < 1000) early.push(msg)
      return
    }
    state = applyDeployMessage(state, msg)
    render()
  })
  close.onclick = () => {
    unsubscribe()
    overlay.remove()
  }
  // The clipboard API is missing on plain-http LAN addresses and rejects without focus: select the log then.
  const selectLog = () => window.getSelection()?.selectAllChildren(log)
  copy.onclick = () => {
    const text = state ? deployLogText(state) : ''
    if (!navigator.clipboard?.writeText) return selectLog()
    navigator.clipboard.writeText(text).catch(selectLog)
  }
  start.onclick = async () => {
    start.disabled = true
    const form: DeployForm = {
      appName: inputs.appName.value,
      gpu: inputs.gpu.value,
      pipPackages: inputs.pipPackages.value,
      aptPackages: inputs.aptPackages.value,
      deploy: inputs.deploy.checked,
      dryRun: inputs.dryRun.checked,
      cleanBuild: inputs.cleanBuild.checked,
      forceRebuild: inputs.forceRebuild.checked,
      models: inputs.models.value,
      modelsSecret: inputs.modelsSecret.value,
      volume: inputs.volume.value,
      memorySnapshot: inputs.memorySnapshot.checked,
      gpuSnapshot: inputs.gpuSnapshot.checked,
      warmup: inputs.warmup.checked,
      startupTimeout: inputs.startupTimeout.value,
    }
    try {
      if (typeof app.graphToPrompt !== 'function')
        throw new Error('this ComfyUI frontend has no graphToPrompt')
      // graphToPrompt() resolves to {workflow, output}; output is the API-format prompt (subgraphs flattened).
      const { output } = await app.graphToPrompt()
      const body = buildDeployBody(output as never, form)
      const res = await api.fetchApi('/comfy-remote/deploy', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
      const answer = (await res.json().catch(() => ({}))) as {
        deployId?: string
        error?: { message?: string }
      }
      if (!res.ok || !answer.deployId)
        throw new Error(
          answer.error?.message ?? routeFailure('/comfy-remote/deploy', res.status, res.statusText, 'POST'),
        )
      state = early.splice(0).reduce(applyDeployMessage, initialDeployLog(answer.deployId))
      render()
    } catch (error) {
      status.textContent = `Could not start: ${(error as Error).message}`
      start.disabled = false
    }
  }
}
