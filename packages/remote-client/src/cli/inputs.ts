import { access, readFile } from 'node:fs/promises'
import { basename, extname, resolve } from 'node:path'
import type { EncodedValue, WorkflowSchema } from '@comfy-remote/protocol'
import { CliError } from '../errors.js'
import { openFileBlob } from '../file-blob.js'
import { mimeForFileName, typeForMime } from '../media-types.js'

/** One `--input` argument: `name[:TYPE]=@file.png|@file.npy|@file.mp4|...|@file.json|https://...|literal`. */
export interface InputSpec {
  name: string
  type?: string
  file?: string
  literal?: string
}

const SPEC = /^([^=:@]+?)(?::([A-Za-z_*][A-Za-z0-9_*]*))?=(.*)$/s

export function parseInputSpec(arg: string): InputSpec {
  const m = SPEC.exec(arg)
  if (!m || m[1] === undefined || m[1].trim() === '' || m[3] === undefined) {
    throw new CliError(
      'USAGE',
      `--input "${arg}" must look like name=@file.png, name=@array.npy, name=@value.json, name=literal or name:TYPE=...`,
    )
  }
  const spec: InputSpec = { name: m[1].trim() }
  if (m[2] !== undefined) spec.type = m[2].toUpperCase() === m[2] ? m[2] : m[2].toUpperCase()
  if (m[3].startsWith('@')) {
    if (m[3].length === 1) throw new CliError('USAGE', `--input "${arg}": give a file path after @`)
    spec.file = m[3].slice(1)
  } else spec.literal = m[3]
  return spec
}

function isEncodedValue(value: unknown): value is EncodedValue {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    typeof (value as EncodedValue).encoding === 'string' &&
    typeof (value as EncodedValue).type === 'string' &&
    ('data' in value || 'ref' in value)
  )
}

/** The ComfyUI type of a plain JSON value. */
export function inferType(value: unknown): string {
  if (typeof value === 'string') return 'STRING'
  if (typeof value === 'boolean') return 'BOOLEAN'
  if (typeof value === 'number') return Number.isInteger(value) ? 'INT' : 'FLOAT'
  return '*'
}

/**
 * An http(s) URL whose path ends in .npy, .png or a media extension: an input the worker fetches
 * itself (`ref`), unless the input is a STRING. Other URLs stay literal text.
 */
function refValue(spec: InputSpec, declared: string | undefined): EncodedValue | undefined {
  const text = spec.literal ?? ''
  const type = spec.type ?? declared
  if (type === 'STRING' || !/^https?:\/\//i.test(text)) return undefined
  let path: string
  try {
    path = new URL(text).pathname
  } catch {
    return undefined
  }
  const ext = extname(path).toLowerCase()
  if (ext === '.npy') return { type: type ?? '*', encoding: 'npy', ref: text }
  if (ext === '.png')
    return { type: type ?? (declared === 'MASK' ? 'MASK' : 'IMAGE'), encoding: 'png', ref: text }
  const mime = mimeForFileName(path)
  if (mime === undefined) return undefined
  return { type: type ?? typeForMime(mime), encoding: 'file', mime, filename: basename(path), ref: text }
}

function literalValue(spec: InputSpec, declared: string | undefined): EncodedValue {
  const text = spec.literal ?? ''
  const type = spec.type ?? declared
  const ref = refValue(spec, declared)
  if (ref) return ref
  if (type === 'STRING') return { type, encoding: 'json', data: text }
  let data: unknown = text
  try {
    data = JSON.parse(text)
  } catch {
    // plain text
  }
  if (type === 'FLOAT' && typeof data === 'number') return { type, encoding: 'json', data }
  return { type: type ?? inferType(data), encoding: 'json', data }
}

function unreadable(spec: InputSpec, path: string, cause: unknown): CliError {
  return new CliError(
    'INPUT',
    `--input ${spec.name}: cannot read ${path} (${(cause as NodeJS.ErrnoException).code ?? String(cause)})`,
    { cause },
  )
}

async function fileValue(spec: InputSpec, declared: string | undefined): Promise<EncodedValue> {
  const path = resolve(spec.file ?? '')
  const ext = extname(path).toLowerCase()
  const mime = mimeForFileName(path)
  const generic = (spec.type ?? declared) === 'FILE'
  if (ext === '.png' || ext === '.npy' || mime !== undefined || generic) {
    // binary payloads are streamed from the file as the request is sent, never read whole first
    let data: Blob
    try {
      data = await openFileBlob(path)
    } catch (cause) {
      throw unreadable(spec, path, cause)
    }
    if (ext === '.png')
      return { type: spec.type ?? (declared === 'MASK' ? 'MASK' : 'IMAGE'), encoding: 'png', data }
    if (ext === '.npy') return { type: spec.type ?? declared ?? '*', encoding: 'npy', data }
    const type = spec.type ?? declared ?? typeForMime(mime)
    return {
      type,
      encoding: 'file',
      mime: mime ?? 'application/octet-stream',
      filename: basename(path),
      data,
    }
  }
  let bytes: Uint8Array
  try {
    bytes = new Uint8Array(await readFile(path))
  } catch (cause) {
    throw unreadable(spec, path, cause)
  }
  if (ext === '.json') {
    let data: unknown
    try {
      data = JSON.parse(new TextDecoder().decode(bytes))
    } catch (cause) {
      throw new CliError(
        'INPUT',
        `--input ${spec.name}: ${path} is not valid JSON (${(cause as Error).message})`,
        { cause },
      )
    }
    if (isEncodedValue(data)) return spec.type ? { ...data, type: spec.type } : data
    return { type: spec.type ?? declared ?? inferType(data), encoding: 'json', data }
  }
  throw new CliError(
    'INPUT',
    `--input ${spec.name}: unsupported file type "${ext || '(none)'}"; use .png (image), .npy (tensor), .json (value), a video/audio/3D file (.mp4, .webm, .mov, .wav, .flac, .mp3, .ogg, .glb, ...) or name:FILE=@file for any file`,
  )
}

/** Reads every `--input` into encoded values; types come from `name:TYPE`, else the endpoint's schema, else the value. */
export async function loadInputs(
  args: readonly string[],
  schema?: WorkflowSchema,
): Promise<Record<string, EncodedValue>> {
  const out: Record<string, EncodedValue> = {}
  for (const arg of args) {
    const spec = parseInputSpec(arg)
    if (Object.hasOwn(out, spec.name))
      throw new CliError('USAGE', `--input ${spec.name} is given twice; give each input once`)
    const declared = schema?.inputs.find((i) => i.name === spec.name)?.type
    const typed = declared === '*' ? undefined : declared
    out[spec.name] = spec.file !== undefined ? await fileValue(spec, typed) : literalValue(spec, typed)
  }
  return out
}

/** Checks every `--input` parses and every file is readable, without reading the files. */
export async function checkInputs(args: readonly string[]): Promise<void> {
  const seen = new Set<string>()
  for (const arg of args) {
    const spec = parseInputSpec(arg)
    if (seen.has(spec.name))
      throw new CliError('USAGE', `--input ${spec.name} is given twice; give each input once`)
    seen.add(spec.name)
    if (spec.file === undefined) continue
    const path = resolve(spec.file)
    await access(path).catch((cause: NodeJS.ErrnoException) => {
      throw new CliError(
        'INPUT',
        `--input ${spec.name}: cannot read ${path} (${cause.code ?? String(cause)})`,
        { cause },
      )
    })
  }
}
