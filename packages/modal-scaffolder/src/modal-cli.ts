import { execa } from 'execa'
import { ModalScaffolderError, type ModalScaffolderErrorCode } from './errors.js'

/** Everything that shells out to the `modal` CLI goes through `runModal`: args as an array, no shell. */
export interface ModalRunOptions {
  cwd?: string
  /** Extra environment for the child (merged over process.env). */
  env?: Record<string, string | undefined>
  /** Each output line (stdout and stderr), as it arrives. */
  onLog?: (line: string) => void
  /** Path or name of the modal executable; default `modal` (from PATH), or $COMFY_REMOTE_MODAL_BIN. */
  modalBin?: string
  /** Kill the child after this long; default 60 minutes (first image builds with torch are slow). */
  timeoutMs?: number
  /** Aborting stops the modal child process (SIGTERM, then SIGKILL after 5 s). */
  signal?: AbortSignal
}

export interface ModalRunResult {
  exitCode: number
  output: string
}

const DEFAULT_TIMEOUT_MS = 60 * 60_000
const WIDE = {
  COLUMNS: '400',
  LINES: '100',
  NO_COLOR: '1',
  TERM: 'dumb',
  PYTHONIOENCODING: 'utf-8',
  PYTHONUNBUFFERED: '1',
}

export async function runModal(args: string[], options: ModalRunOptions = {}): Promise<ModalRunResult> {
  const bin = options.modalBin ?? process.env.COMFY_REMOTE_MODAL_BIN ?? 'modal'
  const lines: string[] = []
  const child = execa(bin, args, {
    cwd: options.cwd,
    env: { ...WIDE, ...options.env },
    extendEnv: true,
    stdin: 'ignore',
    all: true,
    reject: false,
    timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    ...(options.signal ? { cancelSignal: options.signal } : {}),
    forceKillAfterDelay: 5000,
    stripFinalNewline: false,
  })
  child.all?.setEncoding('utf8')
  let pending = ''
  child.all?.on('data', (chunk: string) => {
    pending += chunk
    const parts = pending.split(/\r?\n/)
    pending = parts.pop() ?? ''
    for (const line of parts) {
      lines.push(line)
      options.onLog?.(line)
    }
  })
  const result = await child
  if (pending !== '') {
    lines.push(pending)
    options.onLog?.(pending)
  }
  const output = lines.join('\n')
  const cause = (result as { cause?: unknown }).cause as NodeJS.ErrnoException | undefined
  if (
    cause?.code === 'ENOENT' ||
    (/ENOENT/.test(String(result.message ?? '')) && result.exitCode === undefined)
  )
    throw new ModalScaffolderError(
      'MODAL_CLI_MISSING',
      `the modal CLI was not found (${bin}); install it with "pip install modal" and log in with "modal token new".`,
      {
        cause,
        details: { command: [bin, ...args] },
      },
    )
  if (result.isCanceled)
    throw new ModalScaffolderError(
      'DEPLOY_FAILED',
      `${bin} ${args.join(' ')} was cancelled and stopped; run it again to finish.`,
      { details: { command: [bin, ...args], output: tail(output) } },
    )
  if (result.timedOut)
    throw new ModalScaffolderError(
      'DEPLOY_FAILED',
      `${bin} ${args.join(' ')} did not finish within ${Math.round((options.timeoutMs ?? DEFAULT_TIMEOUT_MS) / 1000)} s and was stopped.`,
      {
        details: { command: [bin, ...args], output: tail(output) },
      },
    )
  return { exitCode: result.exitCode ?? 1, output }
}

export function tail(output: string, lines = 15): string {
  return output
    .split('\n')
    .filter((l) => l.trim() !== '')
    .slice(-lines)
    .join('\n')
}

/** Maps a failed modal run to a coded error whose message says what to do. */
export function modalFailure(
  code: ModalScaffolderErrorCode,
  what: string,
  run: ModalRunResult,
  command: string[],
  secretName?: string,
  modelsSecretName?: string | null,
): ModalScaffolderError {
  const text = run.output
  const details = { command, exitCode: run.exitCode, output: tail(text) }
  if (
    /token (id|secret)|modal token new|not authenticated|could not authenticate|unauthenticated|token missing/i.test(
      text,
    )
  )
    return new ModalScaffolderError(
      'MODAL_TOKEN_MISSING',
      `${what} failed: Modal has no valid token here; run "modal token new" (or set MODAL_TOKEN_ID and MODAL_TOKEN_SECRET) and retry.`,
      { details },
    )
  // Secret.from_name(..., required_keys=[...]) is checked server-side: a missing Secret or key fails the deploy.
  const secretProblem =
    /secret/i.test(text) && /not found|does not exist|could not find|missing|required key/i.test(text)
  if (
    secretProblem &&
    modelsSecretName &&
    (text.includes(`'${modelsSecretName}'`) || /\bHF_TOKEN\b/.test(text))
  )
    return new ModalScaffolderError(
      'MODAL_SECRET_MISSING',
      `${what} failed: the models Secret "${modelsSecretName}" does not exist or has no HF_TOKEN; create it with "modal secret create ${modelsSecretName} HF_TOKEN=<your Hugging Face token>" (add --force to replace one), or scaffold without modelsSecret.`,
      { details },
    )
  if (secretProblem)
    return new ModalScaffolderError(
      'MODAL_SECRET_MISSING',
      `${what} failed: the Modal Secret${secretName ? ` "${secretName}"` : ''} does not exist or has no COMFY_REMOTE_TOKEN; create it with "modal secret create ${secretName ?? '<name>'} COMFY_REMOTE_TOKEN=<a long random token>" (add --force to replace one) (or scaffold with auth "proxy"/"none").`,
      { details },
    )
  const last = tail(text, 1) || '(no output)'
  return new ModalScaffolderError(code, `${what} failed with exit code ${run.exitCode}: ${last}`, { details })
}
