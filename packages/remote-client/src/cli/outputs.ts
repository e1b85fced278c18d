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

/** An IMAGE delivered as a file (by reference) is converted to PNG files up to this size; larger stays .npy. */
const PNG_FROM_FILE_LIMIT = 256 * 1024 * 1024

function bytesOf(data: unknown): Uint8Array | undefined {
  if (data instanceof Uint8Array) return data
  if (typeof data === 'string') return base64ToBytes(data)
  return undefined
}

async function imageFiles(
  base: string,
  value: EncodedValue,
): Promise<Array<{ path: string; bytes: Uint8Array }>> {
  const batch = typeof value.batch === 'number' ? value.batch : 1
  const raw = bytesOf(value.data)
  if (value.encoding === 'png' && raw && batch <= 1) return [{ path: `${base}.png`, bytes: raw }]
  const array = decodeValue(value)
  if (!isNdArray(array)) throw new Error('not an array')
  const shape = array.shape.length === 3 ? [1, ...array.shape] : array.shape
  const [b = 1, h = 0, w = 0, c = 0] = shape
  if (shape.length !== 4) throw new Error(`IMAGE shape ${JSON.stringify(array.shape)} is not [B,H,W,C]`)
  const size = h * w * c
  const files: Array<{ path: string; bytes: Uint8Array }> = []
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
): Promise<Array<{ path: string; bytes: Uint8Array | string }>> {
  const base = join(dir, safeName(name))
  if (value.type === 'IMAGE' && (value.encoding === 'png' || value.encoding === 'npy')) {
    try {
      return await imageFiles(base, value)
    } catch {
      // not convertible to PNG (float16, odd channel count): keep the tensor as it came
    }
  }
  const raw = bytesOf(value.data)
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
): Promise<string[]> {
  if (value.type === 'IMAGE' && value.encoding === 'npy' && (await stat(file)).size <= PNG_FROM_FILE_LIMIT) {
    const bytes = new Uint8Array(await readFile(file))
    const pngs = await imageFiles(join(target, safeName(name)), { ...value, data: bytes }).catch(
      () => undefined,
    )
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
 * when taken); returns the written paths. Outputs already streamed into `dir` are kept there.
 */
export async function writeOutputs(dir: string, outputs: Record<string, EncodedValue>): Promise<string[]> {
  const target = await prepareOutputDir(dir)
  const written: string[] = []
  for (const [name, value] of Object.entries(outputs)) {
    const streamed = fileOf(value.data)
    if (streamed !== undefined) {
      if (!written.includes(streamed)) written.push(...(await keepStreamed(target, name, value, streamed)))
      continue
    }
    for (const file of await filesFor(target, name, value))
      written.push(await writeNew(file.path, file.bytes))
  }
  return written
}
