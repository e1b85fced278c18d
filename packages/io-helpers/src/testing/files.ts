import { createHash } from 'node:crypto'
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { COMFY_FILE_NAME, COMFY_REMOTE_SUBFOLDER, COMFY_SPARE_PREFIX } from '../file-handoff.js'

export interface StoredFile {
  bytes: Uint8Array
  mtime: Date
}

/**
 * In-memory stand-in for ComfyUI's input/output/temp folders. With `tempDir`, `temp/comfy_remote` is a
 * real folder (`<tempDir>/comfy_remote`), as a ComfyUI on the worker's machine has it: a worker may then
 * place and take files there itself (the node pack's /comfy-remote/files/folder and probe routes).
 */
export class FileStore {
  private readonly files = new Map<string, StoredFile>()
  /** The real `temp/comfy_remote` folder, when the store has one. */
  readonly sharedFolder: string | undefined

  constructor(tempDir?: string) {
    if (tempDir !== undefined) {
      this.sharedFolder = join(tempDir, COMFY_REMOTE_SUBFOLDER)
      mkdirSync(this.sharedFolder, { recursive: true })
    }
  }

  /** The real path of a file kept on disk (temp/comfy_remote with a tempDir), else undefined. */
  private diskPath(type: string, subfolder: string, name: string): string | undefined {
    if (this.sharedFolder === undefined || type !== 'temp' || subfolder !== COMFY_REMOTE_SUBFOLDER)
      return undefined
    if (!COMFY_FILE_NAME.test(name)) return undefined
    return join(this.sharedFolder, name)
  }

  private key(type: string, subfolder: string, name: string): string {
    return `${type}/${subfolder}/${name}`
  }

  get(type: string, subfolder: string, name: string): StoredFile | undefined {
    const disk = this.diskPath(type, subfolder, name)
    if (disk !== undefined) {
      try {
        return { bytes: new Uint8Array(readFileSync(disk)), mtime: statSync(disk).mtime }
      } catch {
        return undefined
      }
    }
    return this.files.get(this.key(type, subfolder, name))
  }

  put(type: string, subfolder: string, name: string, bytes: Uint8Array): void {
    const disk = this.diskPath(type, subfolder, name)
    if (disk !== undefined) writeFileSync(disk, bytes)
    else this.files.set(this.key(type, subfolder, name), { bytes, mtime: new Date() })
  }

  /**
   * As the node pack's Remote Output (comfy_files._claim_spare): turn a spare a worker handed back
   * (`cr-spare-*` in the shared folder) into `temp/comfy_remote/<name>`, to be written over by `put`.
   */
  claimSpare(name: string): boolean {
    if (this.sharedFolder === undefined) return false
    for (const spare of readdirSync(this.sharedFolder).filter((n) => n.startsWith(COMFY_SPARE_PREFIX))) {
      try {
        renameSync(join(this.sharedFolder, spare), join(this.sharedFolder, name))
        return true
      } catch {
        // taken meanwhile
      }
    }
    return false
  }

  delete(type: string, subfolder: string, name: string): boolean {
    const disk = this.diskPath(type, subfolder, name)
    if (disk === undefined) return this.files.delete(this.key(type, subfolder, name))
    const existed = this.get(type, subfolder, name) !== undefined
    rmSync(disk, { force: true })
    return existed
  }

  /** Every stored file as `[type, subfolder, name]` (tests look for left-overs). */
  list(): Array<[string, string, string]> {
    const inMemory = [...this.files.keys()].map((key): [string, string, string] => {
      const [type, ...rest] = key.split('/')
      const name = rest.pop() ?? ''
      return [type ?? '', rest.join('/'), name]
    })
    const onDisk =
      this.sharedFolder === undefined
        ? []
        : readdirSync(this.sharedFolder).map((name): [string, string, string] => [
            'temp',
            COMFY_REMOTE_SUBFOLDER,
            name,
          ])
    return [...inMemory, ...onDisk]
  }

  /** An input file as LoadImage names it: `name` or `subfolder/name`. */
  inputFile(annotated: string): StoredFile | undefined {
    const clean = annotated.replace(/ \[(input|output|temp)\]$/, '')
    const slash = clean.lastIndexOf('/')
    return slash < 0
      ? this.get('input', '', clean)
      : this.get('input', clean.slice(0, slash), clean.slice(slash + 1))
  }

  /**
   * ComfyUI's upload naming: the same name with identical bytes keeps the name, different bytes get
   * "name (1).ext", "name (2).ext", ...; `overwrite` always keeps the name.
   */
  upload(type: string, subfolder: string, name: string, bytes: Uint8Array, overwrite: boolean): string {
    let candidate = name
    if (!overwrite) {
      const dot = name.lastIndexOf('.')
      const [base, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, '']
      for (let i = 1; ; i++) {
        const existing = this.get(type, subfolder, candidate)
        if (!existing || sameBytes(existing.bytes, bytes)) break
        candidate = `${base} (${i})${ext}`
      }
    }
    this.put(type, subfolder, candidate, bytes)
    return candidate
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  const hash = (x: Uint8Array) => createHash('sha256').update(x).digest('hex')
  return a.byteLength === b.byteLength && hash(a) === hash(b)
}
