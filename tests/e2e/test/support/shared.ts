import { inject } from 'vitest'
import type { ExampleName } from './paths.js'

/** URL of a mock worker started by the global setup for an example (engine echo or comfyui). */
export function workerUrl(engine: 'echo' | 'comfyui', name: ExampleName): string {
  const url = inject('workers')[`${engine}/${name}`]
  if (!url) throw new Error(`no shared ${engine} worker for ${name}; see test/setup/global-setup.ts`)
  return url
}

/** URL of the fake ComfyUI started by the global setup (the comfyui workers use it). */
export function fakeComfyUrl(): string {
  const url = inject('workers').fake
  if (!url) throw new Error('no shared fake ComfyUI; see test/setup/global-setup.ts')
  return url
}
