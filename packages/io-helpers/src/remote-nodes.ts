import type { ObjectInfo, ObjectInfoEntry } from './types.js'

export const REMOTE_INPUT_CLASS = 'ComfyRemoteInput'
export const REMOTE_OUTPUT_CLASS = 'ComfyRemoteOutput'
export const REMOTE_API_CLASS = 'ComfyRemoteNode'
export const MODAL_DEPLOYMENT_CLASS = 'ComfyRemoteModalDeployment'
/** Picks one output by name from the Remote API node's `outputs` (added by this node pack). */
export const SELECT_OUTPUT_CLASS = 'ComfyRemoteSelectOutput'
/** Default `key` of a Remote Input / Remote Output when the widget is absent. */
export const DEFAULT_INPUT_KEY = 'payload'
export const DEFAULT_OUTPUT_KEY = 'result'
/** The UI output key a Remote Output reports its value under. */
export const REMOTE_OUTPUT_UI_KEY = 'remote_output'

const CATEGORY = 'utils/remote'
const REMOTE_SLOTS = Array.from({ length: 8 }, (_, i) => `input_${i + 1}_$remote_inputs_ag$`)

function entry(
  name: string,
  displayName: string,
  input: ObjectInfoEntry['input'],
  output: string[],
  outputName: string[],
  outputNode: boolean,
): ObjectInfoEntry {
  return {
    input,
    input_order: { required: Object.keys(input.required ?? {}), optional: Object.keys(input.optional ?? {}) },
    output,
    output_is_list: output.map(() => false),
    output_name: outputName,
    name,
    display_name: displayName,
    description: '',
    python_module: 'custom_nodes.comfy_remote',
    category: CATEGORY,
    output_node: outputNode,
  }
}

/**
 * `/object_info` entries of the comfy-remote nodes (the original four, with the inputs this pack adds
 * after the original ones, plus Remote Output Select), as a ComfyUI 0.3.64 with the node pack reports
 * them (ids, input order, types, defaults). Merged into any object_info this package is given.
 */
export const REMOTE_NODES_OBJECT_INFO: Readonly<ObjectInfo> = Object.freeze({
  [REMOTE_INPUT_CLASS]: entry(
    REMOTE_INPUT_CLASS,
    'Remote Input',
    {
      required: { key: ['STRING', { default: DEFAULT_INPUT_KEY, tooltip: 'Payload Key' }] },
      optional: {
        fallback: ['*', { tooltip: 'Fallback Value' }],
        payload: [
          'STRING',
          { forceInput: true, tooltip: 'JSON text of one encoded value; set by workers in the API prompt' },
        ],
      },
    },
    ['*'],
    ['Value'],
    false,
  ),
  [REMOTE_OUTPUT_CLASS]: entry(
    REMOTE_OUTPUT_CLASS,
    'Remote Output',
    { required: { value: ['*', {}], key: ['STRING', { default: DEFAULT_OUTPUT_KEY }] } },
    ['*'],
    ['Value'],
    true,
  ),
  [REMOTE_API_CLASS]: entry(
    REMOTE_API_CLASS,
    'Remote API',
    {
      required: {
        url: ['STRING', { default: '', tooltip: 'Remote URL' }],
        [REMOTE_SLOTS[0] as string]: ['*', {}],
      },
      optional: {
        request_timeout: ['FLOAT', { default: 300, min: 1, max: 3600, tooltip: 'Timeout (s)' }],
        poll_interval: ['FLOAT', { default: 1.5, min: 0.1, max: 120, tooltip: 'Poll Interval (s)' }],
        ...Object.fromEntries(REMOTE_SLOTS.slice(1).map((name) => [name, ['*', {}]])),
        token: ['STRING', { default: '' }],
        allow_pickle: ['BOOLEAN', { default: false }],
        input_names: ['STRING', { default: '' }],
        previews: ['BOOLEAN', { default: true }],
      },
    },
    ['*', '*'],
    ['Result', 'Outputs'],
    false,
  ),
  [MODAL_DEPLOYMENT_CLASS]: entry(
    MODAL_DEPLOYMENT_CLASS,
    'Modal Deployment',
    {
      required: { workflow_path: ['STRING', { default: '' }], deploy: ['BOOLEAN', { default: true }] },
      optional: {
        app_name: ['STRING', { default: 'comfy-remote' }],
        working_directory: ['STRING', { default: '' }],
        extra_pip_requirements: ['STRING', { default: '', multiline: true }],
        extra_system_packages: ['STRING', { default: '', multiline: true }],
        gpu_type: ['STRING', { default: '' }],
        dry_run: ['BOOLEAN', { default: false }],
        clean_build: ['BOOLEAN', { default: false }],
        rebuild_modal_app: ['BOOLEAN', { default: false, label_on: 'Rebuild Modal App' }],
        delete_modal_app: ['BOOLEAN', { default: false, label_on: 'Delete Modal App' }],
      },
    },
    ['STRING', 'STRING'],
    ['Service URL', 'Project Dir'],
    true,
  ),
  [SELECT_OUTPUT_CLASS]: entry(
    SELECT_OUTPUT_CLASS,
    'Remote Output Select',
    { required: { outputs: ['*', {}], name: ['STRING', { default: DEFAULT_OUTPUT_KEY }] } },
    ['*'],
    ['Value'],
    false,
  ),
})

/** A new object_info: the given one plus the comfy-remote nodes it lacks (the server's own entries win). */
export function withRemoteNodes(objectInfo?: ObjectInfo): ObjectInfo {
  return { ...structuredClone(REMOTE_NODES_OBJECT_INFO as ObjectInfo), ...(objectInfo ?? {}) }
}
