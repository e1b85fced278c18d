import { BridgeError } from './errors.js'

/** A value on the wire; `data` may be `{ file: "<absolute path>" }` for binary encodings. */
export interface WireValue {
  type?: string
  encoding: string
  data: unknown
  [extra: string]: unknown
}

export interface RunRequest {
  op: 'run'
  url: string
  token: string | null
  /** Seconds. */
  timeout: number
  /** Seconds. */
  pollInterval: number
  inputs: Record<string, WireValue>
  workDir: string
  transport: 'auto' | 'json'
  /** Forward the remote run's live previews as `preview` events (default false). */
  previews: boolean
  /**
   * Outputs the worker sends by reference are not downloaded here: the result names them
   * `{ref: <absolute URL>, bytes, headers}` and the caller fetches the bytes (default false).
   */
  refsToCaller: boolean
}

export interface SchemaRequest {
  op: 'schema'
  url: string
  token: string | null
}

export interface DeployRequest {
  op: 'deploy'
  workflow: Record<string, unknown> | null
  workflowPath: string | null
  appName: string
  workingDirectory: string | null
  pipPackages: string[]
  aptPackages: string[]
  gpu: string
  deploy: boolean
  dryRun: boolean
  cleanBuild: boolean
  forceRebuild: boolean
  deleteApp: boolean
  /** Raw `<https url>=<path>[@sha256:<hex>]` specs; the scaffolder parses and validates them. */
  models: string[]
  /** Modal Secret holding HF_TOKEN, or null. */
  modelsSecret: string | null
  /** Modal Volume ComfyUI also loads models from, or null. */
  volume: string | null
  /** Modal memory snapshots of the GPU class (ComfyUI's start-up restored on cold starts). */
  memorySnapshot: boolean
  /** Also snapshot GPU memory (Modal alpha); needs memorySnapshot. */
  gpuSnapshot: boolean
  /** Run the workflow once with its default inputs when a container starts. */
  warmup: boolean
  /** Seconds one container start may take (Modal's startup_timeout), or null for the default. */
  startupTimeoutSeconds: number | null
}

export interface PingRequest {
  op: 'ping'
}

export type BridgeRequest = RunRequest | SchemaRequest | DeployRequest | PingRequest

type Obj = Record<string, unknown>

function bad(field: string, expected: string, got: unknown): never {
  const shown = got === undefined ? 'nothing' : JSON.stringify(got)?.slice(0, 80)
  throw new BridgeError('BAD_REQUEST', `Request field "${field}" must be ${expected}; got ${shown}.`)
}

function str(o: Obj, key: string, fallback?: string): string {
  const v = o[key] ?? fallback
  if (typeof v !== 'string') bad(key, 'a string', v)
  return v
}

function optStr(o: Obj, key: string): string | null {
  const v = o[key]
  if (v === undefined || v === null || v === '') return null
  if (typeof v !== 'string') bad(key, 'a string or null', v)
  return v
}

function num(o: Obj, key: string, fallback: number, min: number): number {
  const v = o[key] ?? fallback
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min) bad(key, `a number >= ${min}`, v)
  return v
}

/** A whole number of seconds, or null when absent (the scaffolder checks the range and names it). */
function optSeconds(o: Obj, key: string): number | null {
  const v = o[key]
  if (v === undefined || v === null) return null
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) bad(key, 'a whole number of seconds', v)
  return v
}

function bool(o: Obj, key: string, fallback: boolean): boolean {
  const v = o[key] ?? fallback
  if (typeof v !== 'boolean') bad(key, 'true or false', v)
  return v
}

function strList(o: Obj, key: string): string[] {
  const v = o[key] ?? []
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) bad(key, 'a list of strings', v)
  return (v as string[]).map((s) => s.trim()).filter(Boolean)
}

/** Like strList but keeps every entry (trimmed), so `models[i]` in errors matches the list sent. */
function specList(o: Obj, key: string): string[] {
  const v = o[key] ?? []
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))
    bad(key, 'a list of "<https url>=<path>[@sha256:<hex>]" strings', v)
  return (v as string[]).map((s) => s.trim())
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function httpUrl(o: Obj): string {
  const url = str(o, 'url').trim()
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return bad('url', 'an absolute http(s) URL such as "https://my-app.modal.run"', url)
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    bad('url', 'an http:// or https:// URL', url)
  return url
}

function parseInputs(o: Obj): Record<string, WireValue> {
  const inputs = o.inputs ?? {}
  if (!isObj(inputs)) bad('inputs', 'an object mapping input names to encoded values', inputs)
  for (const [name, value] of Object.entries(inputs)) {
    if (
      !isObj(value) ||
      typeof value.encoding !== 'string' ||
      !('data' in value || typeof value.ref === 'string')
    ) {
      bad(`inputs.${name}`, 'an encoded value with "encoding" and "data" (or "ref")', value)
    }
  }
  return inputs as Record<string, WireValue>
}

/** Parses the one JSON request line the bridge reads on stdin; throws BAD_REQUEST naming the field. */
export function parseRequest(text: string): BridgeRequest {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (cause) {
    throw new BridgeError(
      'BAD_REQUEST',
      'The bridge expects one JSON object on stdin; it could not parse it.',
      { cause },
    )
  }
  return parseRequestValue(raw)
}

/** Validates an already parsed request object (serve mode parses each line once to read its `id`). */
export function parseRequestValue(raw: unknown): BridgeRequest {
  if (!isObj(raw)) bad('(request)', 'a JSON object', raw)
  switch (raw.op) {
    case 'ping':
      return { op: 'ping' }
    case 'schema':
      return { op: 'schema', url: httpUrl(raw), token: optStr(raw, 'token') }
    case 'run': {
      const transport = raw.transport ?? 'auto'
      if (transport !== 'auto' && transport !== 'json') bad('transport', '"auto" or "json"', transport)
      const workDir = str(raw, 'workDir', '')
      if (!workDir.startsWith('/') && !/^[A-Za-z]:[\\/]/.test(workDir))
        bad('workDir', 'an absolute directory path', workDir)
      return {
        op: 'run',
        url: httpUrl(raw),
        token: optStr(raw, 'token'),
        timeout: num(raw, 'timeout', 300, 0.001),
        pollInterval: num(raw, 'pollInterval', 1.5, 0.01),
        inputs: parseInputs(raw),
        workDir,
        transport,
        previews: bool(raw, 'previews', false),
        refsToCaller: bool(raw, 'refsToCaller', false),
      }
    }
    case 'deploy': {
      const workflow = raw.workflow ?? null
      if (workflow !== null && !isObj(workflow))
        bad('workflow', 'an API-format prompt object or null', workflow)
      const workflowPath = optStr(raw, 'workflowPath')
      const deleteApp = bool(raw, 'deleteApp', false)
      if (!workflow && !workflowPath && !deleteApp) {
        bad('workflow', 'an API prompt object (or set "workflowPath")', workflow)
      }
      return {
        op: 'deploy',
        workflow,
        workflowPath,
        appName: str(raw, 'appName', 'comfy-remote').trim() || 'comfy-remote',
        workingDirectory: optStr(raw, 'workingDirectory'),
        pipPackages: strList(raw, 'pipPackages'),
        aptPackages: strList(raw, 'aptPackages'),
        gpu: (optStr(raw, 'gpu') ?? 'H100').trim() || 'H100',
        deploy: bool(raw, 'deploy', true),
        dryRun: bool(raw, 'dryRun', false),
        cleanBuild: bool(raw, 'cleanBuild', false),
        forceRebuild: bool(raw, 'forceRebuild', false),
        deleteApp,
        models: specList(raw, 'models'),
        modelsSecret: optStr(raw, 'modelsSecret')?.trim() || null,
        volume: optStr(raw, 'volume')?.trim() || null,
        memorySnapshot: bool(raw, 'memorySnapshot', false),
        gpuSnapshot: bool(raw, 'gpuSnapshot', false),
        warmup: bool(raw, 'warmup', false),
        startupTimeoutSeconds: optSeconds(raw, 'startupTimeoutSeconds'),
      }
    }
    default:
      return bad('op', 'one of "run", "schema", "deploy", "ping"', raw.op)
  }
}
