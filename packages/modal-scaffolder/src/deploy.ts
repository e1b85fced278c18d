import { randomUUID } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { type ModalConfig, parseModalConfig } from './config.js'
import { deployUrlsOrThrow } from './deploy-result.js'
import { ModalScaffolderError } from './errors.js'
import { type ModalRunOptions, modalFailure, runModal } from './modal-cli.js'
import { checkAppName } from './names.js'
import { MARKER_FILE, readMarker } from './project-dir.js'
import { rerenderProject } from './scaffold.js'

export interface DeployOptions extends Omit<ModalRunOptions, 'cwd'> {
  /** Rebuild the image from scratch: `MODAL_IGNORE_CACHE=1` and a new build nonce. */
  forceRebuild?: boolean
  /** Do not call Modal; return a placeholder URL that is clearly not live. */
  dryRun?: boolean
  /** Templates to re-render the project with (default: the package's own). */
  templatesDir?: string
}

export interface DeployResult {
  url: string
  /** `modal deploy` output (colours stripped), or the dry-run notice. */
  log: string
  dashboardUrl?: string
  dryRun: boolean
  appName: string
}

/** Host of the dry-run placeholder; `.invalid` never resolves. */
export const DRY_RUN_HOST = 'dry-run.not-deployed.invalid'

export function loadProjectConfig(dir: string): ModalConfig {
  if (!readMarker(dir))
    throw new ModalScaffolderError(
      'NOT_A_PROJECT',
      `${dir} is not a comfy-remote-modal project (no ${MARKER_FILE}); scaffold it first with "comfy-remote-modal scaffold".`,
      {
        details: { dir },
      },
    )
  const file = join(dir, 'modal_config.json')
  let value: unknown
  try {
    value = JSON.parse(readFileSync(file, 'utf8'))
  } catch (cause) {
    throw new ModalScaffolderError(
      'NOT_A_PROJECT',
      `${file} is missing or not JSON; scaffold the project again.`,
      { cause, details: { dir } },
    )
  }
  return parseModalConfig(value)
}

/** Runs `modal deploy workflow.py` in the project dir and returns the endpoint URL. */
export async function deployModalProject(dir: string, options: DeployOptions = {}): Promise<DeployResult> {
  const projectDir = resolve(dir)
  let config = loadProjectConfig(projectDir)
  if (!existsSync(join(projectDir, 'workflow.py')))
    throw new ModalScaffolderError(
      'NOT_A_PROJECT',
      `${projectDir}/workflow.py is missing; scaffold the project again.`,
    )
  if (options.dryRun) {
    const url = `https://${DRY_RUN_HOST}/${config.app_name}`
    const log = `DRY RUN: nothing was deployed; ${url} is a placeholder, not a live endpoint.`
    options.onLog?.(log)
    return { url, log, dryRun: true, appName: config.app_name }
  }
  const env: Record<string, string | undefined> = { ...options.env }
  if (options.forceRebuild) {
    config = { ...config, build_nonce: randomUUID() }
    env.MODAL_IGNORE_CACHE = '1'
  }
  // workflow.py & co follow modal_config.json: an edited config (cold_start, timeouts...) takes effect
  rerenderProject(projectDir, config, options.templatesDir)
  const args = ['deploy', 'workflow.py']
  const run = await runModal(args, { ...options, cwd: projectDir, env })
  if (run.exitCode !== 0)
    throw modalFailure(
      'DEPLOY_FAILED',
      'modal deploy',
      run,
      ['modal', ...args],
      config.auth.mode === 'token' ? config.auth.secret_name : undefined,
      config.models_secret,
    )
  const urls = deployUrlsOrThrow(run.output, config.app_name)
  if (urls.derived)
    options.onLog?.(
      `modal deploy printed no endpoint URL; derived ${urls.url} from the dashboard link (default environment).`,
    )
  return {
    url: urls.url,
    log: run.output,
    ...(urls.dashboardUrl ? { dashboardUrl: urls.dashboardUrl } : {}),
    dryRun: false,
    appName: config.app_name,
  }
}

/**
 * `modal app stop <name> --yes`: deletes the deployed app. Current CLIs ask for confirmation and,
 * without a terminal, abort unless `--yes` is given; older CLIs have no `--yes` (usage error), so
 * we retry without it. An app that is already stopped counts as stopped.
 */
export async function stopModalApp(
  name: string,
  options: Omit<ModalRunOptions, 'cwd'> = {},
): Promise<{ log: string }> {
  const appName = checkAppName(name, 'name')
  let args = ['app', 'stop', appName, '--yes']
  let run = await runModal(args, { timeoutMs: 120_000, ...options })
  if (run.exitCode !== 0 && /no such option:?\s*['"]?--yes/i.test(run.output)) {
    args = ['app', 'stop', appName]
    run = await runModal(args, { timeoutMs: 120_000, ...options })
  }
  if (run.exitCode !== 0 && /App is already stopped/i.test(run.output)) return { log: run.output }
  if (run.exitCode !== 0)
    throw modalFailure('STOP_FAILED', `modal app stop ${appName}`, run, ['modal', ...args])
  return { log: run.output }
}
