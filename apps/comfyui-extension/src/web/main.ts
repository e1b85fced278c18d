import type { ComfyExtension } from '@comfyorg/comfyui-frontend-types'
import { app } from './comfy.js'
import { openDeployDialog } from './deploy-dialog.js'
import type { NodeLike } from './node-types.js'
import { listenForRemoteStatus, patchRemoteApiNode } from './remote-api.js'
import { patchRemoteIoNode, refreshDuplicates, watchKeyWidget } from './remote-io.js'
import { NODE_IDS } from './slots.js'

const DEPLOY_COMMAND = 'comfyRemote.deployWorkflow'

const extension: ComfyExtension = {
  name: 'comfyRemote.NodePack',
  commands: [
    {
      id: DEPLOY_COMMAND,
      label: 'Deploy this workflow to Modal',
      icon: 'pi pi-cloud-upload',
      function: openDeployDialog,
    },
  ],
  menuCommands: [{ path: ['Extensions', 'Comfy Remote'], commands: [DEPLOY_COMMAND] }],
  setup() {
    listenForRemoteStatus()
  },
  beforeRegisterNodeDef(nodeType, nodeData) {
    const id = (nodeData as { name?: string }).name
    if (id === NODE_IDS.api) patchRemoteApiNode(nodeType)
    if (id === NODE_IDS.input || id === NODE_IDS.output) patchRemoteIoNode(nodeType)
  },
  nodeCreated(node) {
    watchKeyWidget(node as unknown as NodeLike)
  },
  afterConfigureGraph() {
    refreshDuplicates()
  },
  getCanvasMenuItems() {
    return [null, { content: 'Deploy this workflow to Modal', callback: openDeployDialog }]
  },
}

app.registerExtension(extension)
