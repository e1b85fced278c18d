// Every ```sh block of the README, the guides and the package READMEs runs as written, command by
// command, in a scratch copy of the repository (examples copied, built packages linked), as a reader
// would type it:
// - a command that starts a server (the mock worker, the fake ComfyUI) is started in the background and
//   the test waits for its URL; its documented port is mapped to the port it really got (`--port 0`),
//   and later commands' `127.0.0.1:<documented port>` are rewritten to it;
// - `<id>` / `<job_id>` placeholders are filled with the job id an earlier command printed;
// - every other command must exit 0 within its time limit (curl with --fail-with-body: HTTP < 400).
// Blocks that cannot run here (a Modal account, a ComfyUI install, the npm registry) say so in the
// doc with `<!-- docs-test: skip (why) -->`; the test lists them so skipping stays visible.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { DOC_FILES, type DocBlock, docBlocks, isSetup } from './support/doc-blocks.js'
import { repoRoot } from './support/paths.js'

const SERVER =
  /(?:^|\s)(?:node\s+\S*(?:apps\/mock-worker\/dist\/cli\.js|io-helpers\/dist\/testing\/cli\.js)|comfy-remote-mock)\s/
const COMMAND_TIMEOUT_MS = 60_000

interface Session {
  cwd: string
  aliases: Map<string, string>
  ports: Map<string, string>
  servers: ChildProcess[]
  jobId?: string
}

function scratchCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'comfy-remote-docs-'))
  cpSync(join(repoRoot, 'examples'), join(dir, 'examples'), { recursive: true })
  for (const name of ['packages', 'apps', 'templates', 'node_modules', 'docs', 'package.json'])
    symlinkSync(join(repoRoot, name), join(dir, name))
  return dir
}

function env(): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' }
  delete out.COMFY_REMOTE_TOKEN
  return out
}

function expandAlias(command: string, aliases: Map<string, string>): string {
  const [first = '', ...rest] = command.split(' ')
  const alias = aliases.get(first)
  return alias === undefined ? command : [alias, ...rest].join(' ')
}

function mapPorts(command: string, ports: Map<string, string>): string {
  return command.replace(/(127\.0\.0\.1|localhost):(\d+)/g, (whole, _host, port: string) =>
    ports.has(port) ? `127.0.0.1:${ports.get(port)}` : whole,
  )
}

async function startServer(session: Session, command: string): Promise<void> {
  // a server pointed at an earlier one (the mock worker's --comfyui-url at the fake ComfyUI) gets its real port
  let line = mapPorts(command.replace(/\s*&$/, ''), session.ports)
  const documented = /--port\s+(\d+)/.exec(line)?.[1] ?? (line.includes('mock-worker') ? '8787' : undefined)
  line = /--port\s+\d+/.test(line) ? line.replace(/--port\s+\d+/, '--port 0') : `${line} --port 0`
  const child = spawn('bash', ['-c', `exec ${line}`], {
    cwd: session.cwd,
    env: env(),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  session.servers.push(child)
  let seen = ''
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL within 20 s from: ${line}\n${seen}`)), 20_000)
    const onData = (chunk: Buffer) => {
      seen += chunk.toString()
      const match = /(?:listening on |"url":\s*")(http:\/\/127\.0\.0\.1:\d+)/.exec(seen)
      if (match?.[1]) {
        clearTimeout(timer)
        resolve(match[1])
      }
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`exited (${code}) before printing its URL: ${line}\n${seen}`))
    })
  })
  const port = new URL(url).port
  if (documented !== undefined) session.ports.set(documented, port)
}

function runCommand(session: Session, command: string): string {
  // curl must also get a success status (a documented request that the worker refuses is a doc bug)
  let line = mapPorts(command, session.ports).replace(/^curl /, 'curl --fail-with-body ')
  if (/<(?:job_)?id>/.test(line)) {
    expect(session.jobId, `a job id for the placeholder in: ${command}`).toBeDefined()
    line = line.replace(/<(?:job_)?id>/g, session.jobId as string)
  }
  const result = spawnSync('bash', ['-c', line], {
    cwd: session.cwd,
    env: env(),
    encoding: 'utf8',
    timeout: COMMAND_TIMEOUT_MS,
  })
  expect(result.status, `\`${command}\` exited ${result.status}\n${result.stdout}\n${result.stderr}`).toBe(0)
  const jobId = /"job_id"\s*:\s*"([^"]+)"/.exec(result.stdout)?.[1]
  if (jobId) session.jobId = jobId
  return result.stdout
}

async function runBlock(session: Session, block: DocBlock): Promise<void> {
  for (const raw of block.commands) {
    const alias = /^alias\s+([\w-]+)='([^']*)'$/.exec(raw)
    if (alias) {
      session.aliases.set(alias[1] as string, alias[2] as string)
      continue
    }
    if (isSetup(raw)) continue
    const command = expandAlias(raw, session.aliases)
    if (SERVER.test(` ${command} `) && !/--help\b/.test(command)) await startServer(session, command)
    else runCommand(session, command)
  }
}

const skipped: string[] = []

const withRunnable = DOC_FILES.filter((file) => {
  const blocks = docBlocks(file)
  for (const block of blocks) if (block.skip !== undefined) skipped.push(`${block.id}: ${block.skip}`)
  return blocks.some((block) => block.skip === undefined)
})

describe.each(withRunnable)('shell blocks of %s', (file) => {
  const blocks = docBlocks(file).filter((block) => block.skip === undefined)
  const session: Session = { cwd: '', aliases: new Map(), ports: new Map(), servers: [] }

  afterAll(() => {
    for (const child of session.servers) child.kill('SIGTERM')
    if (session.cwd) rmSync(session.cwd, { recursive: true, force: true })
  })

  for (const block of blocks) {
    it(`${block.id} runs as written`, async () => {
      if (!session.cwd) session.cwd = scratchCopy()
      await runBlock(session, block)
    }, 120_000)
  }
})

describe('skipped shell blocks', () => {
  it('each one says why (listed here)', () => {
    for (const line of skipped) expect(line).toMatch(/: \S/)
    console.log(`docs-shell: not run here:\n  ${skipped.join('\n  ')}`)
  })
})
