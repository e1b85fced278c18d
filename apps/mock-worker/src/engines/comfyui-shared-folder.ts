import { randomBytes } from 'node:crypto'
import { constants, createReadStream, createWriteStream } from 'node:fs'
import { copyFile, link, readdir, rename, rm, stat, unlink, utimes, writeFile } from 'node:fs/promises'
import { basename, isAbsolute, join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import {
  COMFY_FILE_NAME,
  COMFY_REMOTE_SUBFOLDER,
  COMFY_SPARE_PREFIX,
  type ComfyFileRef,
  comfyFileRefProblem,
  type PlannedFile,
} from '@comfy-remote/io-helpers'
import { FILE_CHUNK_BYTES, type FileBytes, isFileBytes } from '../spool/file-bytes.js'
import type { JobSpool } from '../spool/spool.js'

/*
 * The file handoff without HTTP, for a worker on the same machine as ComfyUI (docs/protocol.md "Values
 * in files"). The node pack names its `<temp>/comfy_remote` folder (`GET /comfy-remote/files/folder`);
 * the worker writes a probe file with a random token there and asks the pack to read it back
 * (`POST /comfy-remote/files/probe`). Only when ComfyUI sees that exact token do both processes share
 * the folder: inputs are then hard-linked (or copied) into it instead of `POST /upload/image`, and
 * Remote Output files are linked into the job's spool instead of `GET /view`. Any doubt means HTTP.
 */

async function json(url: string, init: RequestInit, timeoutMs: number): Promise<unknown> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) })
  if (!response.ok) {
    await response.body?.cancel()
    return undefined
  }
  return response.json()
}

/** ComfyUI's `<temp>/comfy_remote` as this worker sees it; `spares`: the pack writes over spare files. */
export interface SharedFolder {
  path: string
  spares: boolean
}

/**
 * ComfyUI's `<temp>/comfy_remote` when this process can write files there that ComfyUI reads (proved
 * with a probe file), else undefined: another machine or container, another user, an old node pack
 * (404), or ComfyUI without the pack.
 */
export async function probeSharedFolder(
  baseUrl: string,
  timeoutMs: number,
): Promise<SharedFolder | undefined> {
  let probe: string | undefined
  try {
    const answer = (await json(`${baseUrl}/comfy-remote/files/folder`, {}, timeoutMs)) as
      | { folder?: unknown }
      | undefined
    const folder = answer?.folder
    if (typeof folder !== 'string' || !isAbsolute(folder) || basename(folder) !== COMFY_REMOTE_SUBFOLDER)
      return undefined
    const filename = `cr-probe-${randomBytes(16).toString('hex')}`
    const token = randomBytes(24).toString('hex')
    probe = join(folder, filename)
    await writeFile(probe, token, { flag: 'wx', mode: 0o600 })
    const verdict = (await json(
      `${baseUrl}/comfy-remote/files/probe`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ filename, token }),
      },
      timeoutMs,
    )) as { shared?: unknown; spares?: unknown } | undefined
    return verdict?.shared === true ? { path: folder, spares: verdict.spares === true } : undefined
  } catch {
    return undefined
  } finally {
    if (probe !== undefined) await rm(probe, { force: true }).catch(() => {})
  }
}

/** Hard link when possible (no copy at all), else a kernel copy; never over an existing file. */
async function linkOrCopy(from: string, to: string): Promise<void> {
  try {
    await link(from, to)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw error
    await copyFile(from, to, constants.COPYFILE_EXCL) // another filesystem, or links not allowed
  }
}

/**
 * Put one planned input file into the shared folder under its generated name (never over an existing
 * file); returns its path. Remote Input reads it and deletes its name; the spool keeps its own.
 */
export async function placeFile(folder: string, file: PlannedFile): Promise<string> {
  if (!COMFY_FILE_NAME.test(file.ref.filename))
    throw new Error(`not a generated file name: ${file.ref.filename}`)
  const target = join(folder, file.ref.filename)
  const source = file.source
  if (source instanceof Uint8Array) {
    await writeFile(target, source.subarray(file.offset, file.offset + file.size), {
      flag: 'wx',
      mode: 0o600,
    })
    return target
  }
  const spooled = source as FileBytes
  if (isFileBytes(spooled) && file.offset === 0 && file.size === spooled.size) {
    await linkOrCopy(spooled.path, target)
    return target
  }
  try {
    await pipeline(
      createReadStream(spooled.path, {
        start: file.offset,
        end: file.offset + file.size - 1,
        highWaterMark: FILE_CHUNK_BYTES,
      }),
      createWriteStream(target, { flags: 'wx', mode: 0o600, highWaterMark: FILE_CHUNK_BYTES }),
    )
  } catch (error) {
    await rm(target, { force: true })
    throw error
  }
  return target
}

const SPARES_MAX = 2

/**
 * Hand a Remote Output file the worker no longer needs back to the folder as a spare
 * (`cr-spare-<hex>.bin`): the pack's next Remote Output writes over it instead of filling a new file.
 * Memory the VM has just given back costs ~3 ms/MiB to touch again; cached file pages do not (a 192 MiB
 * output: ~30 ms instead of 60-500 ms). At most SPARES_MAX wait; the pack deletes spares unused for two
 * minutes. False when the folder has enough (the caller deletes the file).
 */
export async function giveSpare(folder: string, path: string): Promise<boolean> {
  const waiting = (await readdir(folder)).filter((name) => name.startsWith(COMFY_SPARE_PREFIX))
  if (waiting.length >= SPARES_MAX) return false
  const now = new Date()
  await utimes(path, now, now) // its age counts from now for the pack's clean-up
  await rename(path, join(folder, `${COMFY_SPARE_PREFIX}${randomBytes(12).toString('hex')}.bin`))
  return true
}

/**
 * Move a Remote Output file (temp/comfy_remote) into the job's spool: linked (no copy), its name in
 * ComfyUI's folder removed; when the pack takes spares, the file goes back as one once released.
 * Undefined when the reference is not one we can take from the folder.
 */
export async function takeFile(
  folder: SharedFolder,
  ref: ComfyFileRef,
  spool: JobSpool,
): Promise<FileBytes | undefined> {
  if (ref.type !== 'temp' || comfyFileRefProblem(ref) !== undefined) return undefined
  const from = join(folder.path, ref.filename)
  const to = spool.newPath(ref.filename)
  await linkOrCopy(from, to)
  const { size } = await stat(to)
  await unlink(from).catch(() => {})
  return spool.adopt(to, size, folder.spares ? (path) => giveSpare(folder.path, path) : undefined)
}
