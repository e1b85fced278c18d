import { homedir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { EventSink } from './events.js'
import type { DeployRequest } from './request.js'

/** Where projects go when the request names no working directory and no workflow file. */
export const DEFAULT_PROJECTS_DIR = resolve(homedir(), 'comfy-remote', 'modal')

/** The node pack root: bridge/bridge.mjs lives in `<pack>/bridge/`. Its python is copied into projects. */
export function nodePackDir(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..')
}

/** Templates copied next to the bundle by scripts/build.mjs. */
export function templatesDir(): string {
  return join(dirname(fileURLToPath(import.meta.url)), 'scaffolder', 'dist', 'assets', 'templates', 'modal')
}

/**
 * The folder the scaffolder creates `<appName>` in. As the original: `<working_directory>/<app_name>`,
 * else next to the workflow file (`<workflow folder>/modal_<app_name>/<app_name>`), else DEFAULT_PROJECTS_DIR.
 */
export function projectRoot(req: DeployRequest): string {
  if (req.workingDirectory) return resolve(req.workingDirectory)
  if (req.workflowPath) return resolve(dirname(resolve(req.workflowPath)), `modal_${req.appName}`)
  return DEFAULT_PROJECTS_DIR
}

/**
 * `deploy`: scaffold -> [modal deploy | dry run]; every CLI line is a `log` event. With `deleteApp` the
 * request only stops the app (`modal app stop`) and deploys nothing: deleting wins over the default
 * `deploy: true`, so ticking "Delete Modal App" never re-creates (and bills) the app.
 */
export async function deployOp(req: DeployRequest, sink: EventSink, signal: AbortSignal): Promise<void> {
  const scaffolder = await import('@comfy-remote/modal-scaffolder')
  const log = (message: string, level: 'info' | 'warning' = 'info') =>
    sink.emit({ event: 'log', level, message })
  const onLog = (line: string) => log(line)

  if (req.deleteApp) {
    sink.emit({ event: 'progress', value: 0, max: 1, message: `Stopping Modal app ${req.appName}` })
    if (req.dryRun) log(`DRY RUN: would run "modal app stop ${req.appName}"`)
    else await scaffolder.stopModalApp(req.appName, { onLog })
    log(
      `${req.dryRun ? 'DRY RUN: ' : ''}Modal app ${req.appName} stopped; nothing was deployed (untick "Delete Modal App" to deploy).`,
    )
    sink.emit({ event: 'progress', value: 1, max: 1, message: 'Deleted' })
    sink.emit({ event: 'result', url: '', projectDir: '', dryRun: req.dryRun, live: false })
    return
  }

  const steps = 2
  let step = 0
  const progress = (message: string) => sink.emit({ event: 'progress', value: step++, max: steps, message })
  progress('Writing the Modal project')
  const models = req.models.map((spec, i) => scaffolder.parseModelSpec(spec, `models[${i}]`))
  const scaffold = await scaffolder.scaffoldModalProject({
    workflow: req.workflow ?? (req.workflowPath as string),
    outDir: projectRoot(req),
    appName: req.appName,
    gpu: req.gpu,
    pipPackages: req.pipPackages,
    aptPackages: req.aptPackages,
    cleanBuild: req.cleanBuild,
    overwrite: true, // the node redeploys the same app: its project is regenerated each time
    models,
    ...(req.modelsSecret && { modelsSecret: req.modelsSecret }),
    ...(req.volume && { volume: req.volume }),
    memorySnapshot: req.memorySnapshot,
    gpuSnapshot: req.gpuSnapshot,
    warmup: req.warmup,
    ...(req.startupTimeoutSeconds !== null && { startupTimeoutSeconds: req.startupTimeoutSeconds }),
    nodePackDir: nodePackDir(),
    templatesDir: templatesDir(),
  })
  log(`Wrote the Modal project to ${scaffold.dir} (${scaffold.files.length} files)`)
  const { models_secret: secret, volume } = scaffold.config
  if (secret)
    log(
      `models: create the Secret once with: modal secret create ${secret} HF_TOKEN=<your Hugging Face token>`,
    )
  if (volume) log(`volume: upload models with: modal volume put ${volume} <local file> /checkpoints/<file>`)
  const cold = scaffold.config.cold_start
  if (cold.memory_snapshot)
    log(
      `cold start: ${cold.gpu_snapshot ? 'CPU+GPU' : 'CPU'} memory snapshots on; the first container after each deploy takes the snapshot (a slower start), later cold starts restore it`,
    )
  signal.throwIfAborted()

  let url = ''
  let live = false
  if (req.dryRun || req.deploy) {
    progress(req.dryRun ? 'Dry run (Modal is not called)' : 'Deploying to Modal (modal deploy)')
    const deployed = await scaffolder.deployModalProject(scaffold.dir, {
      dryRun: req.dryRun,
      forceRebuild: req.forceRebuild,
      templatesDir: templatesDir(),
      onLog,
    })
    url = deployed.url
    live = !deployed.dryRun
    if (live) log(`Deployed: ${url}`)
  } else {
    log('Deploy is off: the project was written but not deployed.')
  }
  sink.emit({
    event: 'progress',
    value: steps,
    max: steps,
    message: live ? 'Deployed' : 'Done (not deployed)',
  })
  sink.emit({ event: 'result', url, projectDir: scaffold.dir, dryRun: req.dryRun, live })
}
