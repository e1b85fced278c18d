import { NODE_IDS } from './slots.js'

/** Body of `POST /comfy-remote/deploy` (bridge contract). */
export interface DeployBody {
  workflow: Record<string, unknown>
  appName: string
  gpu: string
  pipPackages: string[]
  aptPackages: string[]
  dryRun: boolean
  cleanBuild: boolean
  forceRebuild: boolean
  deploy: boolean
  /** `<https url>=<path under ComfyUI/models/>[@sha256:<hex>]` specs, downloaded at image build. */
  models: string[]
  /** Modal Secret holding HF_TOKEN (gated Hugging Face models), or null. */
  modelsSecret: string | null
  /** Modal Volume ComfyUI also loads models from, or null. */
  volume: string | null
  /** Modal memory snapshots of the GPU class. */
  memorySnapshot: boolean
  /** Also snapshot GPU memory (Modal alpha); needs memorySnapshot. */
  gpuSnapshot: boolean
  /** Run the workflow once with its default inputs when a container starts. */
  warmup: boolean
  /** Seconds one container start may take (ComfyUI start, snapshot restore, warm-up). */
  startupTimeoutSeconds: number
}

export interface DeployForm {
  appName: string
  gpu: string
  pipPackages: string
  aptPackages: string
  dryRun: boolean
  cleanBuild: boolean
  forceRebuild: boolean
  deploy: boolean
  models: string
  modelsSecret: string
  volume: string
  memorySnapshot: boolean
  gpuSnapshot: boolean
  warmup: boolean
  /** Text of the field; whole seconds 10..3600. */
  startupTimeout: string
}

export const DEFAULT_DEPLOY_FORM: DeployForm = {
  appName: 'comfy-remote',
  gpu: 'H100',
  pipPackages: '',
  aptPackages: '',
  dryRun: false,
  cleanBuild: false,
  forceRebuild: false,
  deploy: true,
  models: '',
  modelsSecret: '',
  volume: '',
  memorySnapshot: false,
  gpuSnapshot: false,
  warmup: false,
  startupTimeout: '900',
}

/** Comma- or newline-separated list, as the Modal Deployment node's widgets take it. */
export function splitList(text: string): string[] {
  return text
    .split(/[,\n]/)
    .map((s) => s.trim())
    .filter(Boolean)
}

/** One model spec per line; blank lines and `#` comments dropped (as `split_model_specs` in Python). */
export function splitModelSpecs(text: string): string[] {
  return text
    .split('\n')
    .map((s) => s.trim())
    .filter((s) => s && !s.startsWith('#'))
}

/** The rule the pack's Python applies (comfy_remote/deploy.py `_APP_NAME`): letters, digits, '-', '_'; 1-63. */
export function appNameProblem(name: string): string | null {
  if (!name.trim()) return 'App name is empty: type a name such as "my-workflow".'
  if (name.length > 63) return 'App name is longer than 63 characters.'
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(name)) {
    return `App name "${name}" may only contain letters, digits, "-" and "_" (and start with a letter or digit).`
  }
  return null
}

type ApiPrompt = Record<string, { class_type?: unknown; inputs?: unknown }>

/** The prompt without Modal Deployment nodes: they must not run remotely (as `strip_deploy_nodes` in Python). */
export function stripDeployNodes(prompt: ApiPrompt): ApiPrompt {
  return Object.fromEntries(Object.entries(prompt).filter(([, n]) => n?.class_type !== NODE_IDS.deploy))
}

/** Problems that make an exported (deploy-node-free) workflow unusable as a Modal app (empty list: fine). */
export function workflowProblems(prompt: ApiPrompt): string[] {
  const nodes = Object.values(prompt)
  const problems: string[] = []
  if (nodes.length === 0) problems.push('The workflow is empty.')
  if (!nodes.some((n) => n.class_type === NODE_IDS.output)) {
    problems.push('The workflow has no Remote Output node: add one so the endpoint returns something.')
  }
  return problems
}

/** The cold start fields' problem (as the pack's Python says it), or null. */
export function coldStartProblem(form: DeployForm): string | null {
  if (form.gpuSnapshot && !form.memorySnapshot)
    return 'GPU snapshot needs Memory snapshot: GPU snapshots build on memory snapshots; tick Memory snapshot too, or untick GPU snapshot.'
  const text = form.startupTimeout.trim()
  if (!/^\d+$/.test(text) || Number(text) < 10 || Number(text) > 3600)
    return `Startup timeout must be whole seconds in 10..3600, got "${form.startupTimeout}".`
  return null
}

/** Form + `app.graphToPrompt().output` -> request body; throws with the first problem found. */
export function buildDeployBody(prompt: ApiPrompt, form: DeployForm): DeployBody {
  const appName = form.appName.trim()
  const nameProblem = appNameProblem(appName) ?? coldStartProblem(form)
  if (nameProblem) throw new Error(nameProblem)
  const workflow = stripDeployNodes(prompt)
  const problems = workflowProblems(workflow)
  if (problems.length) throw new Error(problems.join(' '))
  return {
    workflow,
    appName,
    gpu: form.gpu.trim() || 'H100',
    pipPackages: splitList(form.pipPackages),
    aptPackages: splitList(form.aptPackages),
    dryRun: form.dryRun,
    cleanBuild: form.cleanBuild,
    forceRebuild: form.forceRebuild,
    deploy: form.deploy,
    models: splitModelSpecs(form.models),
    modelsSecret: form.modelsSecret.trim() || null,
    volume: form.volume.trim() || null,
    memorySnapshot: form.memorySnapshot,
    gpuSnapshot: form.gpuSnapshot,
    warmup: form.warmup,
    startupTimeoutSeconds: Number(form.startupTimeout.trim()),
  }
}
