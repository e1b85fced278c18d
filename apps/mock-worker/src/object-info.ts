import { readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { ObjectInfo } from '@comfy-remote/io-helpers'
import { MockWorkerError } from './errors.js'

/** The object_info shipped with @comfy-remote/io-helpers (a real ComfyUI 0.3.64, core nodes). */
export async function defaultObjectInfo(): Promise<ObjectInfo> {
  const entry = fileURLToPath(import.meta.resolve('@comfy-remote/io-helpers'))
  let dir = dirname(entry)
  for (let i = 0; i < 4; i++) {
    try {
      const text = await readFile(join(dir, 'fixtures', 'comfyui-0.3.64', 'object_info.json'), 'utf8')
      return JSON.parse(text) as ObjectInfo
    } catch {
      dir = dirname(dir)
    }
  }
  throw new MockWorkerError(
    'INVALID_OPTIONS',
    'Cannot find the object_info fixture of @comfy-remote/io-helpers; pass --object-info <file>.',
  )
}

/** GET <comfyuiUrl>/object_info (bounded); COMFYUI_UNAVAILABLE when it cannot be read. */
export async function fetchObjectInfo(comfyuiUrl: string, timeoutMs = 10_000): Promise<ObjectInfo> {
  const url = `${comfyuiUrl.replace(/\/+$/, '')}/object_info`
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) })
    if (!response.ok) throw new Error(`HTTP ${response.status}`)
    const body = (await response.json()) as unknown
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new Error('not a JSON object')
    return body as ObjectInfo
  } catch (cause) {
    throw new MockWorkerError('COMFYUI_UNAVAILABLE', `Cannot read ${url} (${(cause as Error).message}).`, {
      cause,
    })
  }
}
