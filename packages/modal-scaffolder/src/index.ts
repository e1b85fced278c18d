export type { ColdStartOptions } from './cold-start.js'
export { checkColdStart } from './cold-start.js'
export type { ColdStart, Contract, ModalConfig } from './config.js'
export { parseModalConfig, zColdStart, zContract, zModalConfig } from './config.js'
export type { DeployOptions, DeployResult } from './deploy.js'
export { DRY_RUN_HOST, deployModalProject, loadProjectConfig, stopModalApp } from './deploy.js'
export { deriveWebUrl } from './deploy-result.js'
export type { DeployUrls } from './deploy-url.js'
export { parseDeployOutput, stripAnsi } from './deploy-url.js'
export type { ModalScaffolderErrorCode } from './errors.js'
export { isModalScaffolderError, ModalScaffolderError } from './errors.js'
export type { ModalRunOptions, ModalRunResult } from './modal-cli.js'
export { runModal } from './modal-cli.js'
export type { ModelEntry, ModelInput } from './models.js'
export { checkModels, MODEL_PATH_RE, parseModelSpec, zModelEntry, zModelList } from './models.js'
export {
  APP_NAME_RE,
  APT_PACKAGE_RE,
  checkAppName,
  GPU_RE,
  PIP_PACKAGE_RE,
  PROJECT_APP_NAME_RE,
  splitList,
} from './names.js'
export type { TorchPreset, TorchPresetId } from './presets.js'
export { DEFAULTS, TORCH_PRESET_IDS, TORCH_PRESETS } from './presets.js'
export { MARKER_FILE, readMarker, removeProjectDir } from './project-dir.js'
export { pyLiteral, pyString } from './py-literal.js'
export type { ScaffoldOptions, ScaffoldResult } from './scaffold.js'
export { buildConfig, scaffoldModalProject } from './scaffold.js'
export type { FoundPython, ServeOptions } from './serve.js'
export { findServePython, SERVE_PYTHON_ENV, startServe } from './serve.js'
