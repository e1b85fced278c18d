/** Node ids of the pack (PROTOCOL-COMPAT.md). */
export const NODE_IDS = {
  input: 'ComfyRemoteInput',
  output: 'ComfyRemoteOutput',
  api: 'ComfyRemoteNode',
  deploy: 'ComfyRemoteModalDeployment',
} as const

/** The original Remote API node had at most 8 remote inputs. */
export const MAX_REMOTE_INPUTS = 8

/**
 * 1-based position of a Remote API input slot, whatever form the running ComfyUI gives it:
 * `input_3_$remote_inputs_ag$` (0.3.6x AutogrowDynamic), `remote_inputs.input2` (io.Autogrow,
 * 0-based), or a plain `input_3` (fixed optional inputs). Anything else: null.
 */
export function remoteInputPosition(slotName: string): number | null {
  let m = /^input_(\d+)_\$[A-Za-z0-9_]+_ag\$$/.exec(slotName)
  if (m) return Number(m[1])
  m = /^remote_inputs\.[A-Za-z_]*?(\d+)$/.exec(slotName)
  if (m) return Number(m[1]) + 1
  m = /^input_(\d+)$/.exec(slotName)
  if (m) return Number(m[1])
  return null
}

/** The slot name for position `k` in the same form as an existing slot name (`like`). */
export function remoteInputSlotName(k: number, like: string | null): string {
  if (like) {
    const ag = /^input_\d+(_\$[A-Za-z0-9_]+_ag\$)$/.exec(like)
    if (ag) return `input_${k}${ag[1]}`
    const dotted = /^(remote_inputs\.[A-Za-z_]*?)\d+$/.exec(like)
    if (dotted) return `${dotted[1]}${k - 1}`
  }
  return `input_${k}`
}
