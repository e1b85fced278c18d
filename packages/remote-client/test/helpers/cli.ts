import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url))

export interface CliResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

export interface CliRun {
  child: ReturnType<typeof spawn>
  result: Promise<CliResult>
}

/** Starts the built CLI as a real process (killed after `ms`). */
export function startCli(args: string[], env: Record<string, string> = {}, ms = 20_000): CliRun {
  if (!existsSync(CLI))
    throw new Error(
      `${CLI} is missing: build the package first (pnpm --filter @comfy-remote/remote-client build)`,
    )
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (c: Buffer) => {
    stdout += c.toString()
  })
  child.stderr?.on('data', (c: Buffer) => {
    stderr += c.toString()
  })
  const timer = setTimeout(() => child.kill('SIGKILL'), ms)
  const result = new Promise<CliResult>((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr })
    })
  })
  return { child, result }
}

export function runCli(args: string[], env: Record<string, string> = {}, ms = 20_000): Promise<CliResult> {
  return startCli(args, env, ms).result
}
