import { linkSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { afterEach, describe, expect, it } from 'vitest'
import { RecycleBin } from './recycle-bin.js'
import { SpoolRoot } from './spool.js'

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'cr-bin-'))
  dirs.push(d)
  return d
}
const file = (dir: string, name: string, bytes: number) => {
  const path = join(dir, name)
  writeFileSync(path, Buffer.alloc(bytes, 7))
  return path
}

describe('RecycleBin', () => {
  it('keeps a released file and hands it back under a new name, with its size', async () => {
    const dir = tempDir()
    const bin = new RecycleBin(join(dir, 'bin'))
    const released = file(dir, 'a', 1000)
    const inode = statSync(released).ino
    expect(await bin.keep(released)).toBe(true)
    expect(readdirSync(dir).sort()).toEqual(['bin'])
    expect(await bin.take(join(dir, 'b'))).toBe(1000)
    expect(statSync(join(dir, 'b')).ino).toBe(inode)
    expect(await bin.take(join(dir, 'c'))).toBeUndefined()
  })

  it('never keeps a file someone else still links to', async () => {
    const dir = tempDir()
    const bin = new RecycleBin(join(dir, 'bin'))
    const released = file(dir, 'a', 10)
    linkSync(released, join(dir, 'other-name'))
    expect(await bin.keep(released)).toBe(false)
    expect(bin.size).toBe(0)
  })

  it('keeps at most maxFiles and maxBytes (the oldest are deleted) and deletes files unused for keepMs', async () => {
    const dir = tempDir()
    const bin = new RecycleBin(join(dir, 'bin'), { maxFiles: 2, maxBytes: 1500, keepMs: 80 })
    for (const name of ['a', 'b', 'c']) expect(await bin.keep(file(dir, name, 500))).toBe(true)
    expect(readdirSync(join(dir, 'bin'))).toHaveLength(2)
    expect(await bin.keep(file(dir, 'd', 1200))).toBe(true) // over maxBytes with the others: they go
    expect(readdirSync(join(dir, 'bin'))).toHaveLength(1)
    expect(await bin.keep(file(dir, 'e', 2000))).toBe(false) // alone over maxBytes
    await new Promise((r) => setTimeout(r, 250))
    expect(readdirSync(join(dir, 'bin'))).toEqual([])
    expect(await bin.take(join(dir, 'f'))).toBeUndefined()
  })
})

describe('a spool writes over released files', () => {
  it('the next part goes over a finished job’s input file, cut to its own size', async () => {
    const root = new SpoolRoot(tempDir())
    try {
      const first = root.create()
      const input = await first.write(Readable.from([Buffer.alloc(4096, 1)]), 'in')
      const inode = statSync(input.path).ino
      await first.releaseExcept(new Set())
      const second = root.create()
      const next = await second.write(Readable.from([Buffer.alloc(100, 2)]), 'in')
      expect(statSync(next.path).ino).toBe(inode)
      expect(next.size).toBe(100)
      expect(readFileSync(next.path).equals(Buffer.alloc(100, 2))).toBe(true)
      expect(root.bytes).toBe(100)
    } finally {
      root.close()
    }
  })
})
