import type { ColdStart } from './config.js'
import { invalidOption } from './errors.js'

/** The cold-start options of `scaffoldModalProject` (CLI: --memory-snapshot, --gpu-snapshot, --warmup). */
export interface ColdStartOptions {
  /** Modal memory snapshots of the GPU class: ComfyUI's start-up is restored instead of re-run. */
  memorySnapshot?: boolean
  /** Also snapshot GPU memory (Modal alpha feature); needs `memorySnapshot`. */
  gpuSnapshot?: boolean
  /** Run the workflow once with its default inputs when a container starts (failures are logged). */
  warmup?: boolean
}

function flag(value: unknown, field: string, cli: string): boolean {
  if (value === undefined) return false
  if (typeof value !== 'boolean') throw invalidOption(field, `${cli} must be true or false.`)
  return value
}

/** Options -> `cold_start` of modal_config.json; INVALID_OPTIONS names the option, its flag and the fix. */
export function checkColdStart(options: ColdStartOptions): ColdStart {
  const memory = flag(options.memorySnapshot, 'memorySnapshot', '--memory-snapshot')
  const gpu = flag(options.gpuSnapshot, 'gpuSnapshot', '--gpu-snapshot')
  const warmup = flag(options.warmup, 'warmup', '--warmup')
  if (gpu && !memory)
    throw invalidOption(
      'gpuSnapshot',
      'GPU snapshots (--gpu-snapshot) build on memory snapshots: add --memory-snapshot (memorySnapshot: true; ' +
        '"memory_snapshot": true under cold_start in modal_config.json), or drop --gpu-snapshot.',
    )
  return { memory_snapshot: memory, gpu_snapshot: gpu, warmup }
}
