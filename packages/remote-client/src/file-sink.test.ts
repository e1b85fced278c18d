import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, expect, it } from 'vitest'
import { fileSink } from './refs.js'

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

const bytes = (n: number, seed: number) => new Uint8Array(n).map((_, i) => (i * 7 + seed) & 255)

it('writes held chunks in order across flushes, restarts cleanly after reset, never replaces a file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cr-sink-'))
  dirs.push(dir)
  const chunks = [1, 65_536, 700_000, 3, 1_500_000, 65_536, 10].map((n, i) => bytes(n, i))
  const sink = await fileSink(dir, 'out', 'bin')
  await sink.write(bytes(2_000_000, 99)) // a first attempt the server then restarted
  await sink.reset()
  for (const chunk of chunks) await sink.write(chunk)
  const done = (await sink.finish()) as { file: string }
  expect(done.file).toBe(join(dir, 'out.bin'))
  expect(Buffer.from(readFileSync(done.file)).equals(Buffer.concat(chunks))).toBe(true)
  const second = (await (await fileSink(dir, 'out', 'bin')).finish()) as { file: string }
  expect(second.file).toBe(join(dir, 'out-2.bin'))
})
