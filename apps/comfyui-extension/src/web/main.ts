import type { ComfyExtension } from '@comfyorg/comfyui-frontend-types'
import { app } from './comfy.js'
import { openDeployDialog } from './deploy-dialog.js'
import { listenForDeployMessages } from './deploy-events.js'
import { patchLegacyAutogrow, tidyLegacyAutogrow } from './legacy-autogrow.js'
import type { NodeLike } from './node-types.js'
import { listenForRemoteStatus, loadInputsForSelection, patchRemoteApiNode } from './remote-api.js'
import { patchRemoteIoNode, refreshDuplicates, watchKeyWidget } from './remote-io.js'
import { NODE_IDS } from './slots.js'

const NAME = 'comfyRemote.NodePack'
const DEPLOY_COMMAND = 'comfyRemote.deployWorkflow'
const LOAD_INPUTS_COMMAND = 'comfyRemote.loadInputsFromEndpoint'

/** Runs one piece of glue; a frontend that lacks what it needs costs that feature, never the extension. */
function guarded(what: string, fn: () => void) {
  try {
    fn()
  } catch (error) {
    console.warn(`[comfy-remote] ${what} is unavailable on this ComfyUI frontend:`, error)
  }
}

const extension: ComfyExtension = {
  name: NAME,
  // commands + menuCommands: the top menu (Extensions > Comfy Remote) and the command palette.
  commands: [
    {
      id: DEPLOY_COMMAND,
      label: 'Deploy this workflow to Modal',
      icon: 'pi pi-cloud-upload',
      function: openDeployDialog,
    },
    {
      id: LOAD_INPUTS_COMMAND,
      label: 'Load Remote API inputs from endpoint',
      icon: 'pi pi-download',
      function: loadInputsForSelection,
    },
  ],
  menuCommands: [{ path: ['Extensions', 'Comfy Remote'], commands: [DEPLOY_COMMAND] }],
  setup() {
    guarded('live Remote API status', listenForRemoteStatus)
    guarded('the deploy log', listenForDeployMessages)
  },
  beforeRegisterNodeDef(nodeType, nodeData) {
    const id = (nodeData as { name?: string } | undefined)?.name
    if (id === NODE_IDS.api) {
      guarded('the Remote API node menu', () => patchRemoteApiNode(nodeType))
      guarded('Remote API input slots', () => patchLegacyAutogrow(nodeType))
    }
    if (id === NODE_IDS.input || id === NODE_IDS.output)
      guarded('duplicate key warnings', () => patchRemoteIoNode(nodeType))
  },
  nodeCreated(node) {
    guarded('duplicate key warnings', () => watchKeyWidget(node as unknown as NodeLike))
    const n = node as unknown as NodeLike
    if ((n.comfyClass ?? n.type) === NODE_IDS.api)
      guarded('Remote API input slots', () => tidyLegacyAutogrow(n))
  },
  afterConfigureGraph() {
    guarded('duplicate key warnings', refreshDuplicates)
  },
  // Canvas right-click menu on frontends with the getCanvasMenuItems hook; older ones ignore the key and
  // keep the top-menu command. (Node menus use the prototype's getExtraMenuOptions, which every era calls.)
  // Selection toolbox (current frontends): the load-inputs button when a Remote API node is selected.
  getSelectionToolboxCommands(item) {
    const cls = (item as unknown as NodeLike | null)?.comfyClass ?? (item as unknown as NodeLike | null)?.type
    return cls === NODE_IDS.api ? [LOAD_INPUTS_COMMAND] : []
  },
  getCanvasMenuItems() {
    return [null, { content: 'Deploy this workflow to Modal', callback: openDeployDialog }]
  },
}

if (typeof app?.registerExtension === 'function') app.registerExtension(extension)
else console.error('[comfy-remote] /scripts/app.js has no app.registerExtension: the extension is not loaded')
