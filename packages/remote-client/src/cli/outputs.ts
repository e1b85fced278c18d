import { mkdir, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import {
  base64ToBytes,
  decodeValue,
  type EncodedValue,
  encodePng,
  isNdArray,
  serializeJson,
} from '@comfy-remote/protocol'
import { CliError } from '../errors.js'

/** A file name from an output name: safe characters only, never a path. */
export function safeName(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^\.+/, '_')
  return cleaned === '' ? 'output' : cleaned.slice(0, 120)
}

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

/** The files one output becomes: PNG for IMAGE (one per batch item), .npy for tensors, .json for the rest. */
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
  if (value.encoding === 'npy' && raw) return [{ path: `${base}.npy`, bytes: raw }]
  if (value.encoding === 'png' && raw) return [{ path: `${base}.png`, bytes: raw }]
  const json =
    value.encoding === 'json' || value.encoding === 'identity'
      ? serializeJson(value.data, 2)
      : serializeJson(value, 2)
  return [{ path: `${base}.json`, bytes: `${json}\n` }]
}

/** Writes every output into `dir` (created if needed); returns the written paths. */
export async function writeOutputs(dir: string, outputs: Record<string, EncodedValue>): Promise<string[]> {
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
  const written: string[] = []
  for (const [name, value] of Object.entries(outputs)) {
    for (const file of await filesFor(target, name, value)) {
      try {
        await writeFile(file.path, file.bytes)
      } catch (cause) {
        throw new CliError(
          'OUTPUT',
          `cannot write ${file.path} (${(cause as NodeJS.ErrnoException).code ?? String(cause)})`,
          { cause },
        )
      }
      written.push(file.path)
    }
  }
  return written
}
