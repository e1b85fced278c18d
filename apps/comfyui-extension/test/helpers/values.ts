import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { encodeNpy } from '@comfy-remote/protocol'

/** A float32 [1,H,W,3] image as .npy bytes, filled with non-trivial values (NaN-free, sign bits, tiny numbers). */
export function imageNpy(h: number, w: number, seed = 1): Uint8Array {
  const data = new Float32Array(h * w * 3)
  let x = seed
  for (let i = 0; i < data.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0
    data[i] = ((x / 0xffffffff) * 2 - 1) * (i % 7 === 0 ? 1e-30 : 1)
  }
  return encodeNpy({ dtype: 'float32', shape: [1, h, w, 3], data })
}

const dirs: string[] = []

/** A private work dir like the Python side makes (removed by cleanupWorkDirs). */
export function makeWorkDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cr-bridge-test-'))
  dirs.push(dir)
  return dir
}

export function writeInput(workDir: string, name: string, bytes: Uint8Array): string {
  const path = join(workDir, name)
  writeFileSync(path, bytes)
  return path
}

export function cleanupWorkDirs() {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
}
