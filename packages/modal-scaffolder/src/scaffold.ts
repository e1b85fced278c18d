import { randomUUID } from 'node:crypto'
import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { assetPaths, NODEPACK_EXCLUDES, requireNodePack, requireTemplates } from './assets.js'
import { type ColdStartOptions, checkColdStart } from './cold-start.js'
import { type ModalConfig, parseModalConfig } from './config.js'
import { invalidOption } from './errors.js'
import { checkModalObjectName, checkModels, type ModelInput } from './models.js'
import {
  checkAppName,
  checkAptPackages,
  checkGpu,
  checkPattern,
  checkPipPackages,
  GIT_REF_RE,
  GIT_URL_RE,
  SECRET_NAME_RE,
} from './names.js'
import { DEFAULTS, TORCH_PRESET_IDS, type TorchPresetId } from './presets.js'
import { assertWritable, MARKER_FILE, MARKER_TOOL, readMarker, removeProjectDir } from './project-dir.js'
import { renderTemplates } from './render.js'
import { describeContract, loadPrompt, shippedObjectInfo } from './workflow-input.js'

export const PACKAGE_VERSION = '0.1.0'

export interface ScaffoldOptions extends ColdStartOptions {
  /** API- or UI-format workflow: a file path or the parsed object. */
  workflow: string | object
  /** Output root; the project goes to `<outDir>/<appName>`. */
  outDir: string
  appName: string
  /** Modal GPU type; blank means H100. */
  gpu?: string
  /** Extra pip requirements (list, or comma/newline separated). */
  pipPackages?: string[] | string
  /** Extra Debian packages (list, or comma/newline separated). */
  aptPackages?: string[] | string
  /** Remove the previous project first (only if this tool made it and it lies under outDir). */
  cleanBuild?: boolean
  /**
   * Regenerate a project this tool made before in place (its files are rewritten; files you added
   * stay). Without it (or `cleanBuild`), an existing project is OUTPUT_EXISTS: nothing is overwritten.
   */
  overwrite?: boolean
  /** `/object_info` (path or object): converts UI-format workflows and types the contract. */
  objectInfo?: string | object
  comfyuiRepo?: string
  comfyuiRef?: string
  torchPreset?: TorchPresetId
  pythonVersion?: string
  /** `token` (default: bearer token from a Modal Secret), `proxy` (Modal proxy auth) or `none`. */
  auth?: 'token' | 'proxy' | 'none'
  /** Modal Secret holding COMFY_REMOTE_TOKEN; default `<appName>-auth`. */
  authSecretName?: string
  jobTimeoutSeconds?: number
  /** Bounds a container's start (ComfyUI start, snapshot restore, warm-up): Modal's `startup_timeout`. */
  startupTimeoutSeconds?: number
  waitMaxSeconds?: number
  minContainers?: number
  maxContainers?: number
  scaledownWindowSeconds?: number
  maxRequestBytes?: number
  /**
   * Model files downloaded into ComfyUI/models/ when the image is built: `{ url, path, sha256? }`
   * or `"<https url>=<path>[@sha256:<hex>]"` (path relative to ComfyUI/models/, e.g. "loras/x.safetensors").
   */
  models?: ModelInput[]
  /** Modal Secret with key HF_TOKEN, sent as a bearer token to huggingface.co only (gated models). */
  modelsSecret?: string
  /** Modal Volume (created if missing) mounted on the GPU class; ComfyUI also loads models from it. */
  volume?: string
  /** Fixed build nonce (tests); default: kept from an existing project, else random. */
  buildNonce?: string
  /** Overrides where the node pack / templates are read from. */
  nodePackDir?: string
  templatesDir?: string
}

export interface ScaffoldResult {
  dir: string
  /** Every written file, relative to `dir`, sorted. */
  files: string[]
  config: ModalConfig
}

function int(value: number | undefined, fallback: number, field: string): number {
  if (value === undefined) return fallback
  if (!Number.isInteger(value)) throw invalidOption(field, `must be a whole number, got ${String(value)}.`)
  return value
}

/** `timeouts.startup_seconds`: Modal's `startup_timeout` of the GPU class (ComfyUI start, restore, warm-up). */
function startupSeconds(value: number | undefined): number {
  const seconds = int(value, DEFAULTS.startupTimeoutSeconds, 'startupTimeoutSeconds')
  if (seconds < 10 || seconds > 3600)
    throw invalidOption(
      'startupTimeoutSeconds',
      `--startup-timeout must be 10..3600 seconds, got ${seconds}; it bounds one container start (ComfyUI, snapshot restore, warm-up).`,
    )
  return seconds
}

/** Options -> validated modal_config.json content (throws INVALID_OPTIONS naming the field). */
export function buildConfig(
  options: Omit<ScaffoldOptions, 'workflow' | 'outDir'>,
  contract: ModalConfig['contract'],
  nonce?: string,
): ModalConfig {
  const appName = checkAppName(options.appName, 'appName', true)
  const preset = options.torchPreset ?? DEFAULTS.torchPreset
  if (!TORCH_PRESET_IDS.includes(preset))
    throw invalidOption('torchPreset', `must be one of ${TORCH_PRESET_IDS.join(', ')}.`)
  const auth = options.auth ?? DEFAULTS.authMode
  if (!['token', 'proxy', 'none'].includes(auth))
    throw invalidOption('auth', 'must be "token", "proxy" or "none".')
  const config = {
    schema_version: 1,
    app_name: appName,
    gpu: checkGpu(options.gpu),
    python_version: checkPattern(
      options.pythonVersion ?? DEFAULTS.pythonVersion,
      /^3\.1[0-3]$/,
      'pythonVersion',
      '"3.11"',
    ),
    pip_packages: checkPipPackages(options.pipPackages),
    apt_packages: checkAptPackages(options.aptPackages),
    comfyui: {
      repo: checkPattern(
        options.comfyuiRepo ?? DEFAULTS.comfyuiRepo,
        GIT_URL_RE,
        'comfyuiRepo',
        '"https://github.com/comfyanonymous/ComfyUI.git"',
      ),
      ref: checkPattern(
        options.comfyuiRef ?? DEFAULTS.comfyuiRef,
        GIT_REF_RE,
        'comfyuiRef',
        '"v0.3.64" or a commit sha',
      ),
    },
    torch_preset: preset,
    timeouts: {
      job_seconds: int(options.jobTimeoutSeconds, DEFAULTS.jobTimeoutSeconds, 'jobTimeoutSeconds'),
      startup_seconds: startupSeconds(options.startupTimeoutSeconds),
      wait_max_seconds: int(options.waitMaxSeconds, DEFAULTS.waitMaxSeconds, 'waitMaxSeconds'),
    },
    containers: {
      min: int(options.minContainers, DEFAULTS.minContainers, 'minContainers'),
      max: int(options.maxContainers, DEFAULTS.maxContainers, 'maxContainers'),
      scaledown_window_seconds: int(
        options.scaledownWindowSeconds,
        DEFAULTS.scaledownWindowSeconds,
        'scaledownWindowSeconds',
      ),
    },
    auth: {
      mode: auth,
      secret_name: checkPattern(
        options.authSecretName ?? `${appName}-auth`.slice(0, 63),
        SECRET_NAME_RE,
        'authSecretName',
        '"my-app-auth"',
      ),
      token_env: DEFAULTS.tokenEnv,
    },
    limits: { max_request_bytes: int(options.maxRequestBytes, DEFAULTS.maxRequestBytes, 'maxRequestBytes') },
    models: checkModels(options.models),
    models_secret: checkModalObjectName(options.modelsSecret, 'modelsSecret'),
    volume: checkModalObjectName(options.volume, 'volume'),
    cold_start: checkColdStart(options),
    build_nonce: options.buildNonce ?? nonce ?? randomUUID(),
    contract,
  }
  if (config.containers.max < config.containers.min)
    throw invalidOption('maxContainers', 'must be >= minContainers.')
  return parseModalConfig(config)
}

function previousNonce(dir: string): string | undefined {
  try {
    const value = JSON.parse(readFileSync(join(dir, 'modal_config.json'), 'utf8')) as {
      build_nonce?: unknown
    }
    return typeof value.build_nonce === 'string' ? value.build_nonce : undefined
  } catch {
    return undefined
  }
}

function write(dir: string, path: string, content: string, files: string[]): void {
  const full = join(dir, path)
  mkdirSync(dirname(full), { recursive: true })
  writeFileSync(full, content)
  files.push(path)
}

function listRelative(root: string, dir = root): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? listRelative(root, join(dir, e.name))
      : [relative(root, join(dir, e.name)).split('\\').join('/')],
  )
}

/** Writes the Modal project for a workflow into `<outDir>/<appName>`. */
export async function scaffoldModalProject(options: ScaffoldOptions): Promise<ScaffoldResult> {
  if (typeof options?.outDir !== 'string' || options.outDir.trim() === '')
    throw invalidOption('outDir', 'is required: the folder the project directory is created in.')
  const appName = checkAppName(options.appName, 'appName', true)
  const root = resolve(options.outDir)
  const dir = join(root, appName)
  const assets = assetPaths()
  const templatesDir = requireTemplates(options.templatesDir ?? assets.templatesDir)
  const nodePackDir = requireNodePack(options.nodePackDir ?? assets.nodePackDir)
  const { prompt, objectInfo } = await loadPrompt(options.workflow, options.objectInfo)
  const typing = objectInfo ?? (await shippedObjectInfo())
  const config = buildConfig(options, describeContract(prompt, typing), previousNonce(dir))

  if (options.cleanBuild) await removeProjectDir(root, dir)
  assertWritable(dir, options.overwrite === true || options.cleanBuild === true)
  mkdirSync(dir, { recursive: true })
  const files: string[] = []
  const marker = { tool: MARKER_TOOL, app_name: appName, version: PACKAGE_VERSION }
  write(dir, MARKER_FILE, `${JSON.stringify(marker, null, 2)}\n`, files)
  write(dir, 'prompt.json', `${JSON.stringify(prompt, null, 2)}\n`, files)
  write(dir, 'modal_config.json', `${JSON.stringify(config, null, 2)}\n`, files)
  for (const file of renderTemplates(templatesDir, config)) write(dir, file.path, file.content, files)

  const target = join(dir, 'custom_nodes', 'comfy_remote')
  const filter = (src: string) =>
    !NODEPACK_EXCLUDES.has(src.split(/[\\/]/).pop() ?? '') && !src.endsWith('.pyc')
  cpSync(join(nodePackDir, '__init__.py'), join(target, '__init__.py'))
  cpSync(join(nodePackDir, 'comfy_remote'), join(target, 'comfy_remote'), { recursive: true, filter })
  files.push(...listRelative(dir, target))
  return { dir, files: [...new Set(files)].sort(), config }
}

/** Re-renders workflow.py & co from an existing project's modal_config.json (every deploy does). */
export function rerenderProject(dir: string, config: ModalConfig, templatesDir?: string): void {
  if (!readMarker(dir))
    throw invalidOption('dir', `${dir} is not a comfy-remote-modal project (no ${MARKER_FILE}).`)
  const templates = requireTemplates(templatesDir ?? assetPaths().templatesDir)
  writeFileSync(join(dir, 'modal_config.json'), `${JSON.stringify(config, null, 2)}\n`)
  const files: string[] = []
  for (const file of renderTemplates(templates, config)) write(dir, file.path, file.content, files)
}
