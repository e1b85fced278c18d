import { existsSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { SpoolRoot } from './spool.js'

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

function setup() {
  const base = mkdtempSync(join(tmpdir(), 'cr-spool-'))
  const away = mkdtempSync(join(tmpdir(), 'cr-away-'))
  dirs.push(base, away)
  const spool = new SpoolRoot(base).create()
  const moved: string[] = []
  const recycle = async (path: string) => {
    const to = join(away, `spare-${moved.length}`)
    renameSync(path, to)
    moved.push(to)
    return true
  }
  const file = (name: string) => {
    const path = spool.newPath(name)
    writeFileSync(path, 'bytes')
    return path
  }
  return { spool, moved, recycle, file }
}

describe('JobSpool recycling', () => {
  it('offers released files to their taker instead of deleting them; others are deleted', async () => {
    const { spool, moved, recycle, file } = setup()
    const kept = spool.adopt(file('out'), 5, recycle)
    const plain = spool.adopt(file('in'), 5)
    await spool.dispose()
    expect(moved).toHaveLength(1)
    expect(existsSync(moved[0] as string)).toBe(true)
    expect(existsSync(kept.path)).toBe(false)
    expect(existsSync(plain.path)).toBe(false)
  })

  it('never hands on a file that is still being read, and deletes it when the taker fails', async () => {
    const { spool, moved, recycle, file } = setup()
    const read = spool.adopt(file('read'), 5, recycle)
    const failing = spool.adopt(file('fail'), 5, async () => {
      throw new Error('folder gone')
    })
    read.readers++
    await spool.releaseExcept(new Set())
    expect(moved).toEqual([])
    expect(existsSync(read.path)).toBe(false)
    expect(existsSync(failing.path)).toBe(false)
  })

  it('a stream of the bytes counts as a reader until it closes', async () => {
    const { spool, file } = setup()
    const bytes = spool.adopt(file('s'), 5)
    const stream = bytes.stream()
    expect(bytes.readers).toBe(1)
    for await (const _ of stream);
    await new Promise((r) => setImmediate(r))
    expect(bytes.readers).toBe(0)
    await spool.dispose()
  })
})
