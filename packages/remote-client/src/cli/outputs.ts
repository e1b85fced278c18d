import { mkdir, open, readFile, rm, stat } from 'node:fs/promises'
import { extname, join, resolve } from 'node:path'
import {
  base64ToBytes,
  decodeValue,
  type EncodedValue,
  encodePng,
  isNdArray,
  serializeJson,
} from '@comfy-remote/protocol'
import { CliError } from '../errors.js'
import { extensionFor } from '../media-types.js'
import { safeStem } from '../refs.js'

/** A file name from an output name: safe characters only, never a path. */
export const safeName = safeStem

/**
 * What one call may write (a hostile endpoint chooses the outputs): how many files, and how many bytes
 * splitting an IMAGE batch into PNG files may decode. Raised with --max-files / --max-decoded-mb.
 */
export interface OutputLimits {
  maxFiles: number
  maxDecodedBytes: number
}

export const DEFAULT_OUTPUT_LIMITS: OutputLimits = { maxFiles: 256, maxDecodedBytes: 1024 * 1024 * 1024 }

type OutputFile = { path: string; bytes: Uint8Array | string }

/** An IMAGE delivered as a file (by reference) is converted to PNG files up to this size; larger stays .npy. */
const PNG_FROM_FILE_LIMIT = 256 * 1024 * 1024

function bytesOf(data: unknown): Uint8Array | undefined {
  if (data instanceof Uint8Array) return data
  if (typeof data === 'string') return base64ToBytes(data)
  return undefined
}

const PNG_CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 4, 4: 2, 6: 4 }

/** Bytes decoding a PNG to float32 takes (the decoder's samples + the float copy), from its header. */
function pngDecodedBytes(bytes: Uint8Array): number {
  if (bytes.length < 26) return 0
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const samples = view.getUint32(16) * view.getUint32(20) * (PNG_CHANNELS[bytes[25] ?? 6] ?? 4)
  return samples * (Math.ceil((bytes[24] ?? 8) / 8) + 4)
}

/**
 * One IMAGE as PNG files (one per batch item), or undefined when it stays as it came: a batch with
 * more items than `limits.maxFiles`, or whose split would decode more than `limits.maxDecodedBytes`.
 */
async function imageFiles(
  base: string,
  value: EncodedValue,
  limits: OutputLimits = DEFAULT_OUTPUT_LIMITS,
  notes: string[] = [],
): Promise<OutputFile[] | undefined> {
  const batch = typeof value.batch === 'number' ? value.batch : 1
  const raw = bytesOf(value.data)
  if (value.encoding === 'png' && raw && batch <= 1) return [{ path: `${base}.png`, bytes: raw }]
  if (value.encoding === 'png' && raw && pngDecodedBytes(raw) > limits.maxDecodedBytes) {
    notes.push(
      `a batch of ${batch} images needs ${pngDecodedBytes(raw)} bytes to split (over --max-decoded-mb)`,
    )
    return undefined
  }
  const array = decodeValue(value)
  if (!isNdArray(array)) throw new Error('not an array')
  const shape = array.shape.length === 3 ? [1, ...array.shape] : array.shape
  const [b = 1, h = 0, w = 0, c = 0] = shape
  if (shape.length !== 4) throw new Error(`IMAGE shape ${JSON.stringify(array.shape)} is not [B,H,W,C]`)
  if (b > limits.maxFiles) {
    notes.push(`a batch of ${b} images would be ${b} files (over --max-files ${limits.maxFiles})`)
    return undefined
  }
  const size = h * w * c
  const files: OutputFile[] = []
  for (let i = 0; i < b; i++) {
    const data = array.data.subarray(i * size, (i + 1) * size) as typeof array.data
    const { bytes } = encodePng({ dtype: array.dtype, shape: [1, h, w, c], data }, 'IMAGE')
    files.push({ path: b === 1 ? `${base}.png` : `${base}_${i}.png`, bytes })
  }
  return files
}

/**
 * The files one output becomes: PNG for IMAGE (one per batch item), .npy for tensors, the file itself
 * for `file` values (extension from its mime: .mp4, .webm, .wav, .flac, ...), .json for the rest.
 */
export async function filesFor(
  dir: string,
  name: string,
  value: EncodedValue,
  limits: OutputLimits = DEFAULT_OUTPUT_LIMITS,
  notes: string[] = [],
): Promise<OutputFile[]> {
  const base = join(dir, safeName(name))
  if (value.type === 'IMAGE' && (value.encoding === 'png' || value.encoding === 'npy')) {
    try {
      const files = await imageFiles(base, value, limits, notes)
      if (files) return files
    } catch {
      // not convertible to PNG (float16, odd channel count): keep the tensor as it came
    }
  }
  const binary = value.encoding === 'npy' || value.encoding === 'png' || value.encoding === 'file'
  const raw = binary ? bytesOf(value.data) : undefined // json text is not base64
  if ((value.encoding === 'npy' || value.encoding === 'png' || value.encoding === 'file') && raw)
    return [{ path: `${base}.${extensionFor(value)}`, bytes: raw }]
  const json =
    value.encoding === 'json' || value.encoding === 'identity'
      ? serializeJson(value.data, 2)
      : serializeJson(value, 2)
  return [{ path: `${base}.json`, bytes: `${json}\n` }]
}

/** Creates the output folder (before the call, so outputs can stream into it); its absolute path. */
export async function prepareOutputDir(dir: string): Promise<string> {
  const target = resolve(dir)
  try {
    await mkdir(target, { recursive: true })
  } catch (cause) {
    throw new CliError(
      'OUTPUT',
      `cannot create the output folder ${target} (${(cause as NodeJS.ErrnoException).code ?? String(cause)})`,
      { cause },
    )
  }
  return target
}

function outputError(path: string, cause: unknown): CliError {
  return new CliError(
    'OUTPUT',
    `cannot write ${path} (${(cause as NodeJS.ErrnoException).code ?? String(cause)})`,
    { cause },
  )
}

/** Writes `bytes` to `path`, or `<stem>-2<ext>`, `-3`... when taken: never replaces a file (or follows a link). */
async function writeNew(path: string, bytes: Uint8Array | string): Promise<string> {
  const ext = extname(path)
  const stem = path.slice(0, path.length - ext.length)
  for (let n = 1; ; n++) {
    const target = n === 1 ? path : `${stem}-${n}${ext}`
    let handle: Awaited<ReturnType<typeof open>>
    try {
      handle = await open(target, 'wx', 0o644)
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === 'EEXIST' && n < 10_000) continue
      throw outputError(target, cause)
    }
    try {
      await handle.writeFile(bytes)
    } catch (cause) {
      throw outputError(target, cause)
    } finally {
      await handle.close()
    }
    return target
  }
}

function fileOf(data: unknown): string | undefined {
  return typeof data === 'object' && data !== null && typeof (data as { file?: unknown }).file === 'string'
    ? (data as { file: string }).file
    : undefined
}

/**
 * An output the client already streamed into `dir` (sent by reference): kept as it is, except an IMAGE
 * tensor small enough to become PNG files (the .npy is then removed).
 */
async function keepStreamed(
  target: string,
  name: string,
  value: EncodedValue,
  file: string,
  limits: OutputLimits,
  notes: string[],
): Promise<string[]> {
  if (value.type === 'IMAGE' && value.encoding === 'npy' && (await stat(file)).size <= PNG_FROM_FILE_LIMIT) {
    const bytes = new Uint8Array(await readFile(file))
    const pngs = await imageFiles(
      join(target, safeName(name)),
      { ...value, data: bytes },
      limits,
      notes,
    ).catch(() => undefined)
    if (pngs) {
      const written: string[] = []
      for (const png of pngs) written.push(await writeNew(png.path, png.bytes))
      await rm(file, { force: true })
      return written
    }
  }
  return [file]
}

/**
 * Writes every output into `dir` (created if needed) under names that never replace a file (`-2`...
 * when taken); returns the written paths. Outputs already streamed into `dir` are kept there. More
 * outputs than `limits.maxFiles` is OUTPUT_LIMIT before anything is written; an IMAGE batch over the
 * limits stays one file, and `notes` says so.
 */
export async function writeOutputs(
  dir: string,
  outputs: Record<string, EncodedValue>,
  limits: OutputLimits = DEFAULT_OUTPUT_LIMITS,
  notes: string[] = [],
): Promise<string[]> {
  const names = Object.keys(outputs)
  if (names.length > limits.maxFiles) {
    throw new CliError(
      'OUTPUT_LIMIT',
      `the endpoint returned ${names.length} outputs, more files than --max-files ${limits.maxFiles}; nothing was written (raise --max-files if you expect that many)`,
    )
  }
  const target = await prepareOutputDir(dir)
  const written: string[] = []
  for (const [i, [name, value]] of Object.entries(outputs).entries()) {
    // every later output needs at least one file
    const left = { ...limits, maxFiles: limits.maxFiles - written.length - (names.length - 1 - i) }
    const before = notes.length
    const streamed = fileOf(value.data)
    if (streamed !== undefined) {
      if (!written.includes(streamed))
        written.push(...(await keepStreamed(target, name, value, streamed, left, notes)))
    } else {
      for (const file of await filesFor(target, name, value, left, notes))
        written.push(await writeNew(file.path, file.bytes))
    }
    for (let n = before; n < notes.length; n++) notes[n] = `${name}: ${notes[n]}; kept as one file`
  }
  return written
}
