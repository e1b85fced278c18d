import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { PACKAGE_DIR, REPO_DIR } from './helpers.js'

// What the tests that run `comfy-remote-modal serve` in front of the fake ComfyUI share.

/** Debian's python3: it has fastapi and uvicorn (the generated web app's imports). */
export const SERVE_PYTHON = '/usr/bin/python3'
export const FAKE_COMFY = join(REPO_DIR, 'packages', 'io-helpers', 'dist', 'testing', 'cli.js')
const CLI = join(PACKAGE_DIR, 'dist', 'cli.js')

/** Whether `serve` can run here: SERVE_PYTHON with fastapi and uvicorn, the fake ComfyUI and `files` built. */
export function canServe(...files: string[]): boolean {
  return (
    [SERVE_PYTHON, FAKE_COMFY, ...files].every((f) => existsSync(f)) &&
    spawnSync(SERVE_PYTHON, ['-c', 'import fastapi, uvicorn'], { stdio: 'ignore', timeout: 20_000 })
      .status === 0
  )
}

/** The processes one test file starts; `stopAll` ends them, newest first. */
export class Processes {
  readonly #children: ChildProcess[] = []
  /** Everything the servers `start` started wrote to stderr (passed through as well). */
  stderr = ''

  /** Stop `child` with the others. */
  track<T extends ChildProcess>(child: T): T {
    this.#children.push(child)
    return child
  }

  /** Starts a server; resolves with the URL of its first `{"url"}` or `listening on <url>` line. */
  async start(cmd: string, args: string[]): Promise<string> {
    const child = this.track(spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] }))
    child.stderr.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString()
      process.stderr.write(chunk)
    })
    const lines = createInterface({ input: child.stdout })
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
    const url = await new Promise<string>((resolve) => {
      lines.on('line', (line) => {
        const found = /"url":\s*"([^"]+)"|listening on (http\S+)/.exec(line)
        if (found) resolve((found[1] ?? found[2]) as string)
      })
      child.once('exit', () => resolve(''))
    })
    clearTimeout(timer)
    if (!url) throw new Error(`${cmd} ${args.join(' ')} did not start:\n${this.stderr}`)
    return url
  }

  /** `comfy-remote-modal serve <dir>` in front of `comfyUrl` on a free port, with SERVE_PYTHON; its URL. */
  serve(dir: string, comfyUrl: string, ...extra: string[]): Promise<string> {
    return this.start('node', [
      CLI,
      'serve',
      dir,
      '--comfyui-url',
      comfyUrl,
      '--port',
      '0',
      ...extra,
      '--python',
      SERVE_PYTHON,
    ])
  }

  /** SIGTERM to each still running (SIGKILL after 5 s), newest first. */
  async stopAll(): Promise<void> {
    for (const child of this.#children.splice(0).reverse()) {
      if (child.exitCode !== null || child.signalCode !== null) continue
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
      await once(child, 'exit')
      clearTimeout(timer)
    }
  }
}
