import { mkdir, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { PreviewInfo } from '../follow.js'

/** Numbered previews kept at most (the oldest are deleted); latest.<ext> is always the newest. */
export const MAX_NUMBERED_PREVIEWS = 100

export interface PreviewWriter {
  onPreview(preview: PreviewInfo): void
  /** Waits for the write in flight; returns how many previews were written. */
  close(): Promise<number>
}

const EXT: Record<string, string> = { 'image/jpeg': 'jpg', 'image/png': 'png', 'image/webp': 'webp' }

/**
 * Writes live previews to `dir`: `latest.jpg` (or .png) replaced atomically, plus numbered
 * `preview-0001.jpg`... of which the newest MAX_NUMBERED_PREVIEWS stay. One write at a time; a
 * preview arriving meanwhile replaces any waiting one (newest wins), so a slow disk never queues up.
 */
export function createPreviewWriter(dir: string, keep = MAX_NUMBERED_PREVIEWS): PreviewWriter {
  let count = 0
  let waiting: PreviewInfo | undefined
  let busy: Promise<void> | undefined
  let ready: Promise<unknown> | undefined
  const numbered: string[] = []
  const write = async (preview: PreviewInfo): Promise<void> => {
    ready ??= mkdir(dir, { recursive: true })
    await ready
    const ext = EXT[preview.mime] ?? 'img'
    count++
    const name = `preview-${String(count).padStart(4, '0')}.${ext}`
    await writeFile(join(dir, name), preview.data)
    numbered.push(name)
    while (numbered.length > keep) await rm(join(dir, numbered.shift() as string), { force: true })
    const tmp = join(dir, `.latest.${ext}.tmp`)
    await writeFile(tmp, preview.data)
    await rename(tmp, join(dir, `latest.${ext}`))
  }
  const pump = (): void => {
    if (busy !== undefined || waiting === undefined) return
    const next = waiting
    waiting = undefined
    busy = write(next)
      .catch(() => {}) // a preview that cannot be written is not worth failing the call
      .finally(() => {
        busy = undefined
        pump()
      })
  }
  return {
    onPreview(preview) {
      waiting = preview
      pump()
    },
    async close() {
      while (busy !== undefined) await busy
      return count
    },
  }
}
