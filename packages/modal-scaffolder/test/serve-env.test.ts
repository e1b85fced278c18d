import { once } from 'node:events'
import { chmodSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { scaffoldModalProject, startServe } from '../src/index.js'
import { cleanupTempDirs, FIXTURES, tempDir } from './helpers.js'

// What `comfy-remote-modal serve` hands the Python it starts: a stand-in "python" that answers the
// module probe and writes its environment to a file.
afterAll(cleanupTempDirs)

const saved = { ...process.env }
afterEach(() => {
  for (const key of ['CR_TEST_ENV_OUT', 'MALLOC_TRIM_THRESHOLD_']) {
    if (saved[key] === undefined) delete process.env[key]
    else process.env[key] = saved[key]
  }
})

async function servedEnv(): Promise<Record<string, string>> {
  const work = tempDir('cr-serve-env-')
  const { dir } = await scaffoldModalProject({
    workflow: join(FIXTURES, 'echo-prompt.json'),
    outDir: work,
    appName: 'serve-env',
  })
  const python = join(work, 'python')
  writeFileSync(
    python,
    '#!/bin/sh\nif [ "$1" = "-c" ]; then echo "fastapi uvicorn websocket"; exit 0; fi\nenv > "$CR_TEST_ENV_OUT"\n',
  )
  chmodSync(python, 0o755)
  process.env.CR_TEST_ENV_OUT = join(work, 'env.txt')
  const { child } = startServe({ projectDir: dir, comfyuiUrl: 'http://127.0.0.1:9', python }, 'pipe')
  await once(child, 'exit')
  return Object.fromEntries(
    readFileSync(join(work, 'env.txt'), 'utf8')
      .split('\n')
      .filter((line) => line.includes('='))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  )
}

describe('serve: the Python process', () => {
  it('reuses freed memory for large values (glibc malloc settings)', async () => {
    const env = await servedEnv()
    expect(env.MALLOC_MMAP_MAX_).toBe('0')
    expect(env.MALLOC_TRIM_THRESHOLD_).toBe(String(256 * 1024 * 1024))
  })

  it('keeps malloc settings the caller chose', async () => {
    process.env.MALLOC_TRIM_THRESHOLD_ = '1048576'
    const env = await servedEnv()
    expect(env.MALLOC_TRIM_THRESHOLD_).toBe('1048576')
  })
})
