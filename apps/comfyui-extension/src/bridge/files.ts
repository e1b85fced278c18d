import { open, realpath, stat } from 'node:fs/promises'
import { isAbsolute, join, relative, sep } from 'node:path'
import { extensionFor, openFileBlob } from '@comfy-remote/remote-client'
import { BridgeError } from './errors.js'
import type { WireValue } from './request.js'

/** Encodings whose `data` is file bytes (base64 on JSON, a Uint8Array in memory, a file across the bridge). */
const BINARY = new Set(['npy', 'png', 'file'])

type Obj = Record<string, unknown>
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)

function fileRef(data: unknown): string | null {
  return isObj(data) && typeof data.file === 'string' && Object.keys(data).length === 1 ? data.file : null
}

/**
 * The input file as a Blob that reads the file lazily: remote-client streams it into the request body,
 * so the bridge never holds the payload.
 */
async function openInside(workDirReal: string, path: string, field: string): Promise<Blob> {
  if (!isAbsolute(path)) {
    throw new BridgeError('BAD_REQUEST', `${field}: data.file must be an absolute path; got "${path}".`)
  }
  let real: string
  try {
    real = await realpath(path)
  } catch (cause) {
    throw new BridgeError('FILE_NOT_FOUND', `${field}: the input file "${path}" does not exist.`, { cause })
  }
  const rel = relative(workDirReal, real)
  if (rel === '' || rel.startsWith(`..${sep}`) || rel === '..' || isAbsolute(rel)) {
    throw new BridgeError(
      'FILE_OUTSIDE_WORKDIR',
      `${field}: the bridge only reads input files inside workDir ("${workDirReal}"); "${path}" is outside. Write inputs into workDir.`,
    )
  }
  if (!(await stat(real)).isFile())
    throw new BridgeError('FILE_NOT_FOUND', `${field}: "${path}" is not a file.`)
  return await openFileBlob(real)
}

async function loadValue(value: unknown, workDirReal: string, field: string): Promise<unknown> {
  if (!isObj(value) || typeof value.encoding !== 'string') return value
  const path = BINARY.has(value.encoding) ? fileRef(value.data) : null
  if (path !== null) return { ...value, data: await openInside(workDirReal, path, field) }
  if (value.encoding === 'object' && isObj(value.data)) {
    const data: Obj = {}
    for (const [k, v] of Object.entries(value.data))
      data[k] = await loadValue(v, workDirReal, `${field}.${k}`)
    return { ...value, data }
  }
  if (value.encoding === 'list' && Array.isArray(value.data)) {
    const data = []
    for (const [i, v] of value.data.entries()) data.push(await loadValue(v, workDirReal, `${field}[${i}]`))
    return { ...value, data }
  }
  return value
}

/** Replaces every `{"file": path}` data (also inside object/list values) by a Blob of that file. */
export async function loadInputValues(
  inputs: Record<string, WireValue>,
  workDir: string,
): Promise<Record<string, WireValue>> {
  let workDirReal: string
  try {
    workDirReal = await realpath(workDir)
  } catch (cause) {
    throw new BridgeError(
      'FILE_NOT_FOUND',
      `workDir "${workDir}" does not exist; create it before starting the bridge.`,
      {
        cause,
      },
    )
  }
  const out: Record<string, WireValue> = {}
  for (const [name, value] of Object.entries(inputs)) {
    out[name] = (await loadValue(value, workDirReal, `inputs.${name}`)) as WireValue
  }
  return out
}

/** Safe, unique file stem for an output name. */
export function outputFileStem(name: string, taken: Set<string>): string {
  const base = `out-${
    name
      .replace(/[^A-Za-z0-9_.-]/g, '_')
      .replace(/^\.+/, '_')
      .slice(0, 100) || 'value'
  }`
  let stem = base
  for (let i = 2; taken.has(stem); i++) stem = `${base}-${i}`
  taken.add(stem)
  return stem
}

function bytesOf(data: unknown): Uint8Array | null {
  if (data instanceof Uint8Array) return data
  if (typeof data === 'string') return Buffer.from(data, 'base64')
  return null
}

async function writeExclusive(path: string, bytes: Uint8Array): Promise<void> {
  // 'wx' never follows or replaces an existing file (e.g. a planted symlink).
  const handle = await open(path, 'wx', 0o600)
  try {
    await handle.writeFile(bytes)
  } finally {
    await handle.close()
  }
}

/** Writes bytes to a new `out-<name>[-k].<ext>` file in workDir, never replacing an existing one. */
async function writeNew(workDir: string, name: string, ext: string, bytes: Uint8Array, taken: Set<string>) {
  for (;;) {
    const path = join(workDir, `${outputFileStem(name, taken)}.${ext}`)
    try {
      await writeExclusive(path, bytes)
      return path
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'EEXIST' || taken.size > 10_000) throw error
    }
  }
}

/** Files written in this call, so `result` (usually the first output again) is not written twice. */
interface Written {
  taken: Set<string>
  byText: Map<string, string>
  byBytes: { bytes: Uint8Array; path: string }[]
}

function alreadyWritten(w: Written, data: unknown): string | undefined {
  if (typeof data === 'string') return w.byText.get(data)
  if (!(data instanceof Uint8Array)) return undefined
  return w.byBytes.find(
    ({ bytes }) =>
      bytes.buffer === data.buffer && bytes.byteOffset === data.byteOffset && bytes.length === data.length,
  )?.path
}

/** How to fetch an output ref (`refsToCaller`): its absolute URL and the headers to send. */
export type RefRequest = (ref: string) => { url: string; headers: Record<string, string> }

async function storeValue(
  value: unknown,
  workDir: string,
  name: string,
  w: Written,
  refRequest: RefRequest | undefined,
): Promise<unknown> {
  if (!isObj(value) || typeof value.encoding !== 'string') return value
  if (typeof value.ref === 'string' && refRequest) {
    const { url, headers } = refRequest(value.ref)
    return { ...value, ref: url, headers }
  }
  if (BINARY.has(value.encoding)) {
    // remote-client already streamed it into a file of workDir (an output sent by reference)
    if (fileRef(value.data) !== null) return value
    const ext = extensionFor(value)
    const seen = alreadyWritten(w, value.data)
    if (seen) return { ...value, data: { file: seen } }
    const bytes = bytesOf(value.data)
    if (!bytes) return value
    const path = await writeNew(workDir, name, ext, bytes, w.taken)
    if (typeof value.data === 'string') w.byText.set(value.data, path)
    else w.byBytes.push({ bytes, path })
    return { ...value, data: { file: path } }
  }
  if (value.encoding === 'object' && isObj(value.data)) {
    const data: Obj = {}
    for (const [k, v] of Object.entries(value.data))
      data[k] = await storeValue(v, workDir, `${name}.${k}`, w, refRequest)
    return { ...value, data }
  }
  if (value.encoding === 'list' && Array.isArray(value.data)) {
    const data = []
    for (const [i, v] of value.data.entries())
      data.push(await storeValue(v, workDir, `${name}.${i}`, w, refRequest))
    return { ...value, data }
  }
  return value
}

/**
 * Writes every binary output (npy/png/file, also nested) held in memory to `<workDir>/out-<name>.<ext>`
 * and returns file refs; outputs remote-client already streamed into workDir keep their file. With
 * `refRequest`, outputs sent by reference stay refs: `{ref: <absolute URL>, bytes, headers}`.
 */
export async function storeOutputValues(
  outputs: Record<string, unknown>,
  result: unknown,
  workDir: string,
  refRequest?: RefRequest,
): Promise<{ outputs: Record<string, unknown>; result: unknown }> {
  const w: Written = { taken: new Set(), byText: new Map(), byBytes: [] }
  const stored: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(outputs))
    stored[name] = await storeValue(value, workDir, name, w, refRequest)
  const storedResult =
    result === undefined || result === null
      ? null
      : await storeValue(result, workDir, 'result', w, refRequest)
  return { outputs: stored, result: storedResult }
}
