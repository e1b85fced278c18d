// Child processes for the end-to-end suite: every process is started with bounded waits and is
// killed by stopAll() (call it in afterAll).
import { type ChildProcess, spawn } from 'node:child_process'
import { join } from 'node:path'
import { repoRoot } from './paths.js'

export interface Started {
  child: ChildProcess
  url: string
  /** Everything the process printed so far (stdout + stderr). */
  output: () => string
}

const running = new Set<ChildProcess>()

/** The parent's environment without settings that would change what the children do. */
function childEnv(extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' }
  for (const key of ['COMFY_REMOTE_TOKEN', 'COMFY_REMOTE_ALLOW_PICKLE']) delete env[key]
  return { ...env, ...extra }
}

export const bins = {
  mockWorker: join(repoRoot, 'apps', 'mock-worker', 'dist', 'cli.js'),
  remoteClient: join(repoRoot, 'packages', 'remote-client', 'dist', 'cli.js'),
  fakeComfy: join(repoRoot, 'packages', 'io-helpers', 'dist', 'testing', 'cli.js'),
  modal: join(repoRoot, 'packages', 'modal-scaffolder', 'dist', 'cli.js'),
  bridge: join(repoRoot, 'apps', 'comfyui-extension', 'bridge', 'bridge.mjs'),
}

/** Starts `node <script> ...args` and resolves with the URL it says it listens on (bounded). */
export function startServer(
  script: string,
  args: string[],
  timeoutMs = 60_000, // generous: a loaded 2-core CI machine starts a worker in seconds, not 20
  env?: NodeJS.ProcessEnv,
): Promise<Started> {
  const child = spawn(process.execPath, [script, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: childEnv(env),
  })
  running.add(child)
  child.once('exit', () => running.delete(child))
  let seen = ''
  const output = () => seen
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop(child)
      reject(new Error(`${script} printed no URL within ${timeoutMs} ms; output:\n${seen}`))
    }, timeoutMs)
    const onData = (chunk: Buffer) => {
      seen += chunk.toString('utf8')
      // "listening on <url>" (mock worker), "listening at <url>" (Fastify's log), {"url": "<url>"} (fake ComfyUI)
      const match = seen.match(
        /(?:listening (?:on|at) |"url":\s*")(https?:\/\/(?:127\.0\.0\.1|localhost):\d+)/i,
      )
      if (match?.[1]) {
        clearTimeout(timer)
        resolve({ child, url: match[1].replace('localhost', '127.0.0.1'), output })
      }
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`${script} exited early (code ${code}); output:\n${seen}`))
    })
  })
}

export interface RunResult {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs `node <script> ...args` to completion (killed after timeoutMs). */
export function runNode(
  script: string,
  args: string[],
  options: { timeoutMs?: number; input?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<RunResult> {
  const child = spawn(process.execPath, [script, ...args], {
    cwd: options.cwd,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: childEnv(options.env),
  })
  running.add(child)
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString('utf8')
  })
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString('utf8')
  })
  child.stdin.end(options.input ?? '')
  const timer = setTimeout(() => stop(child), options.timeoutMs ?? 30_000)
  return new Promise((resolve) => {
    child.once('close', (code) => {
      clearTimeout(timer)
      running.delete(child)
      resolve({ code, stdout, stderr })
    })
  })
}

function stop(child: ChildProcess): void {
  if (child.exitCode !== null || child.signalCode !== null) return
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 3_000)
  timer.unref()
}

/** Stops one started process and waits (bounded) until it has exited. */
export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  stop(child)
  await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))])
}

/** Stops every process this suite file started. */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((c) => stopProcess(c)))
}
