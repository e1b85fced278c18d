import { createHash } from 'node:crypto'

export interface StoredFile {
  bytes: Uint8Array
  mtime: Date
}

/** In-memory stand-in for ComfyUI's input/output/temp folders. */
export class FileStore {
  private readonly files = new Map<string, StoredFile>()

  private key(type: string, subfolder: string, name: string): string {
    return `${type}/${subfolder}/${name}`
  }

  get(type: string, subfolder: string, name: string): StoredFile | undefined {
    return this.files.get(this.key(type, subfolder, name))
  }

  put(type: string, subfolder: string, name: string, bytes: Uint8Array): void {
    this.files.set(this.key(type, subfolder, name), { bytes, mtime: new Date() })
  }

  delete(type: string, subfolder: string, name: string): boolean {
    return this.files.delete(this.key(type, subfolder, name))
  }

  /** Every stored file as `[type, subfolder, name]` (tests look for left-overs). */
  list(): Array<[string, string, string]> {
    return [...this.files.keys()].map((key) => {
      const [type, ...rest] = key.split('/')
      const name = rest.pop() ?? ''
      return [type ?? '', rest.join('/'), name]
    })
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
