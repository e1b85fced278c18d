// Starting the targets: the io-helpers fake ComfyUI in process, the mock worker and
// `comfy-remote-modal serve` as child processes on port 0 (stopped by stopAll()).
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type ApiNode, REMOTE_INPUT_CLASS } from '@comfy-remote/io-helpers'
import { createFakeComfyUI, type FakeComfyUI } from '@comfy-remote/io-helpers/testing'
import { FAIL_MARK, INVALID_MARK } from './target.js'

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
export const PROMPT = join(REPO, 'tests', 'contract', 'fixtures', 'contract-prompt.json')
export const TOKEN = 'contract-token-0123456789abcdef'
/** Body limit the suite starts workers with (small, so the 413 rule is cheap to check). */
export const BODY_LIMIT = 8 * 1024 * 1024
const BINS = {
  mockWorker: join(REPO, 'apps', 'mock-worker', 'dist', 'cli.js'),
  modal: join(REPO, 'packages', 'modal-scaffolder', 'dist', 'cli.js'),
}
const VALIDATION = join(
  REPO,
  'packages',
  'io-helpers',
  'fixtures',
  'comfyui-0.3.64',
  'validation-error',
  'bad-value.json',
)
const children = new Set<ChildProcess>()
const temps: string[] = []

export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cr-contract-'))
  temps.push(dir)
  return dir
}

/** A recorded ComfyUI traceback (paths of the lab machine), as real execution errors carry. */
const TRACEBACK = [
  '  File "/srv/comfy-lab/ComfyUI/execution.py", line 496, in execute\n    output_data = get_output_data(obj, input_data_all)\n',
  '  File "/srv/comfy-lab/ComfyUI/custom_nodes/comfy_remote/nodes/remote_input.py", line 88, in run\n    raise ValueError(message)\n',
]

function payloadOf(node: ApiNode): string {
  const payload = node.inputs?.payload
  return typeof payload === 'string' ? payload : ''
}

/**
 * The fake ComfyUI of the suite: 10 progress steps of 100 ms per non-Remote node (a job takes about 1 s),
 * an execution error when a Remote Input's payload holds FAIL_MARK, the recorded validation error of
 * ComfyUI 0.3.64 when a prompt holds INVALID_MARK.
 */
export async function startFakeComfy(): Promise<{ fake: FakeComfyUI; interrupts: () => number }> {
  const invalid = (JSON.parse(readFileSync(VALIDATION, 'utf8')) as { response: { body: unknown } }).response
    .body
  const fake = await createFakeComfyUI({
    progressSteps: 10,
    stepDelayMs: 100,
    failNode: (_id, node) =>
      node.class_type === REMOTE_INPUT_CLASS && payloadOf(node).includes(FAIL_MARK)
        ? {
            exception_message: `${FAIL_MARK}: the node refused this value\n`,
            // as ComfyUI (0.3.64 and 0.26.0) names an exception class of a custom node: its module is the
            // node folder's path with dots as _x_ (nodes.py load_custom_node, execution.py full_type_name)
            exception_type: '/srv/comfy-lab/ComfyUI/custom_nodes/comfy_remote.comfy_remote.errors.CodecError',
            traceback: TRACEBACK,
          }
        : undefined,
    onRequest: (request) =>
      request.method === 'POST' && request.path === '/prompt' && request.rawBody.includes(INVALID_MARK)
        ? { status: 400, body: invalid }
        : undefined,
  })
  const interrupts = () => fake.requests.filter((r) => r.method === 'POST' && r.path === '/interrupt').length
  return { fake, interrupts }
}

/** Starts `cmd args` and resolves with the URL of its `listening on <url>` line (bounded). */
export function startServer(cmd: string, args: string[], timeoutMs = 60_000): Promise<string> {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' }
  delete env.COMFY_REMOTE_TOKEN
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env })
  children.add(child)
  child.once('exit', () => children.delete(child))
  let seen = ''
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${args[0]} printed no URL within ${timeoutMs} ms:\n${seen}`))
    }, timeoutMs)
    const onData = (chunk: Buffer) => {
      seen += chunk.toString('utf8')
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(seen)
      if (match?.[1]) {
        clearTimeout(timer)
        resolve(match[1])
      }
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`${args[0]} exited early (code ${code}):\n${seen}`))
    })
  })
}

export function startMockWorker(engine: 'echo' | 'comfyui', comfyuiUrl?: string): Promise<string> {
  return startServer(process.execPath, [
    BINS.mockWorker,
    '--workflow',
    PROMPT,
    '--engine',
    engine,
    ...(comfyuiUrl ? ['--comfyui-url', comfyuiUrl] : []),
    '--port',
    '0',
    '--token',
    TOKEN,
    '--steps',
    '10',
    '--step-ms',
    '100',
    '--body-limit',
    String(BODY_LIMIT),
    '--log-level',
    'warn',
  ])
}

/** `comfy-remote-modal scaffold` + `comfy-remote-modal serve` of the suite's workflow. */
export async function startServedApp(comfyuiUrl: string, python?: string): Promise<string> {
  const { scaffoldModalProject } = await import('@comfy-remote/modal-scaffolder')
  const { dir } = await scaffoldModalProject({
    workflow: PROMPT,
    outDir: tempDir(),
    appName: 'contract',
    maxRequestBytes: BODY_LIMIT,
  })
  return startServer(process.execPath, [
    BINS.modal,
    'serve',
    dir,
    '--comfyui-url',
    comfyuiUrl,
    '--port',
    '0',
    '--token',
    TOKEN,
    ...(python ? ['--python', python] : []),
  ])
}

export async function stopAll(): Promise<void> {
  await Promise.all(
    [...children].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve()
          const timer = setTimeout(() => child.kill('SIGKILL'), 5_000)
          child.once('exit', () => {
            clearTimeout(timer)
            resolve()
          })
          child.kill('SIGTERM')
        }),
    ),
  )
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true })
}
