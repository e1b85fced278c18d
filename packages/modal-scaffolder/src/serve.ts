import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { isIP } from 'node:net'
import { join, resolve } from 'node:path'
import { assetPaths } from './assets.js'
import { loadProjectConfig } from './deploy.js'
import { invalidOption, ModalScaffolderError } from './errors.js'

/** Environment variable naming the Python `serve` runs the project with (like `--python`). */
export const SERVE_PYTHON_ENV = 'COMFY_REMOTE_PYTHON'
/** How the token reaches the Python process: the environment, never its command line. */
const TOKEN_ENV = 'COMFY_REMOTE_SERVE_TOKEN'
const NEEDED = ['fastapi', 'uvicorn']
const WANTED = ['websocket']
const INSTALL_HINT = `pip install "fastapi[standard]" websocket-client (or Debian: apt install python3-fastapi python3-uvicorn python3-websocket), or pass --python / set ${SERVE_PYTHON_ENV}`

/**
 * glibc malloc settings for the served app (unless the caller set them): large buffers come from the heap
 * and freed ones stay there up to 256 MiB, so each image reuses memory instead of mapping fresh pages
 * (reading a 48 MiB output file: ~30 ms -> ~8 ms). Other C libraries ignore them.
 */
const MALLOC_REUSE = { MALLOC_MMAP_MAX_: '0', MALLOC_TRIM_THRESHOLD_: String(256 * 1024 * 1024) }

export interface ServeOptions {
  /** The folder `comfy-remote-modal scaffold` wrote. */
  projectDir: string
  /** A running ComfyUI with the comfy-remote nodes installed. */
  comfyuiUrl: string
  /** Default 127.0.0.1; other interfaces need a token. */
  host?: string
  /** Default 8000; 0 = any free port. */
  port?: number
  /** Bearer token every route but /health then requires. */
  token?: string
  /** The Python to run; default: the first of $COMFY_REMOTE_PYTHON, python3, python, /usr/bin/python3 that has fastapi + uvicorn. */
  python?: string
}

/** Which of the modules `python` can import (found without importing them), or undefined when it does not run. */
function probe(python: string): Set<string> | undefined {
  const code = `import importlib.util as u; print(" ".join(m for m in ${JSON.stringify([...NEEDED, ...WANTED])} if u.find_spec(m)))`
  const r = spawnSync(python, ['-c', code], { encoding: 'utf8', timeout: 30_000 })
  return r.status === 0 ? new Set(r.stdout.trim().split(/\s+/)) : undefined
}

export interface FoundPython {
  python: string
  /** False when websocket-client is missing: the runner then polls /history (coarser progress). */
  websocket: boolean
}

/**
 * A Python that can run the generated web app: `explicit` (must qualify), else $COMFY_REMOTE_PYTHON,
 * else the first of python3, python, /usr/bin/python3 with fastapi, uvicorn and websocket-client (else
 * the first with fastapi and uvicorn).
 */
export function findServePython(explicit?: string): FoundPython {
  const configured = explicit ?? (process.env[SERVE_PYTHON_ENV]?.trim() || undefined)
  const candidates = configured !== undefined ? [configured] : ['python3', 'python', '/usr/bin/python3']
  let fallback: FoundPython | undefined
  for (const python of candidates) {
    const found = probe(python)
    if (found === undefined || !NEEDED.every((m) => found.has(m))) continue
    if (WANTED.every((m) => found.has(m))) return { python, websocket: true }
    fallback ??= { python, websocket: false }
  }
  if (fallback !== undefined) return fallback
  throw new ModalScaffolderError(
    'SERVE_PYTHON_MISSING',
    `no Python with fastapi and uvicorn found (tried ${candidates.join(', ')}); ${INSTALL_HINT}.`,
    { details: { tried: candidates } },
  )
}

/** 127.0.0.0/8, ::1 or localhost. */
export function isLoopbackHost(host: string): boolean {
  const name = host.replace(/^\[|\]$/g, '').toLowerCase()
  if (name === 'localhost' || name === '::1') return true
  const v4 = isIP(name) === 4 ? name.split('.').map(Number) : undefined
  return v4 !== undefined && v4[0] === 127
}

export function serveArgs(options: ServeOptions): string[] {
  const script = join(assetPaths().serveDir, 'serve_local.py')
  return [
    script,
    resolve(options.projectDir),
    '--comfyui-url',
    options.comfyuiUrl,
    '--host',
    options.host ?? '127.0.0.1',
    '--port',
    String(options.port ?? 8000),
  ]
}

/**
 * Starts the project's own web app + runner locally (no Modal) in front of `comfyuiUrl`. The child
 * prints `listening on http://<host>:<port>` when ready; stdout/stderr are inherited unless `stdio`
 * says otherwise.
 */
export function startServe(
  options: ServeOptions,
  stdio: 'inherit' | 'pipe' = 'inherit',
): { child: ChildProcess; python: FoundPython } {
  const dir = resolve(options.projectDir)
  loadProjectConfig(dir) // NOT_A_PROJECT before starting Python
  if (!existsSync(join(dir, 'workflow.py')))
    throw new ModalScaffolderError(
      'NOT_A_PROJECT',
      `${dir}/workflow.py is missing; scaffold the project again.`,
      {
        details: { dir },
      },
    )
  const host = options.host ?? '127.0.0.1'
  const hasToken = options.token !== undefined && options.token !== ''
  if (!hasToken && !isLoopbackHost(host))
    throw invalidOption(
      'host',
      `${host} without a token would let anyone who reaches this machine run jobs: pass --token (or set COMFY_REMOTE_TOKEN), or bind 127.0.0.1`,
    )
  if (hasToken && (options.token as string).length < 8)
    throw invalidOption('token', 'must be at least 8 characters')
  if (!/^https?:\/\/\S+$/.test(options.comfyuiUrl))
    throw invalidOption(
      'comfyuiUrl',
      `must be an http(s) URL such as http://127.0.0.1:8188, got ${JSON.stringify(options.comfyuiUrl)}`,
    )
  const python = findServePython(options.python)
  const env: NodeJS.ProcessEnv = {
    ...MALLOC_REUSE,
    ...process.env,
    PYTHONUNBUFFERED: '1',
    PYTHONDONTWRITEBYTECODE: '1',
  }
  delete env[TOKEN_ENV]
  if (hasToken) env[TOKEN_ENV] = options.token
  const child = spawn(python.python, serveArgs(options), { stdio: ['ignore', stdio, stdio], env })
  return { child, python }
}
