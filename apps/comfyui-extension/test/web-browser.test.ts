import { execFile, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PACK_DIR } from './helpers/bridge.js'

/**
 * Real-browser smoke test: headless Chromium loads the BUILT web/js/comfy-remote.js next to a small fake of
 * the ComfyUI frontend (test/fixtures/web-browser/frontend.js, written from Comfy-Org/ComfyUI_frontend) in
 * two eras, and the page reports errors, warnings and what the extension did. Debian package: chromium.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const BUNDLE = join(PACK_DIR, 'web', 'js', 'comfy-remote.js')
const FIXTURES = join(PACK_DIR, 'test', 'fixtures', 'web-browser')
const hasChromium = existsSync(CHROMIUM)

interface Report {
  era: string
  done?: boolean
  errors: string[]
  warnings: string[]
  logs: string[]
  toasts: { severity: string; summary: string; detail: string }[]
  steps: Record<string, unknown>
}

const schemaQueries: string[] = []
const deployBodies: unknown[] = []
let server: Server
let origin = ''
const profiles: string[] = []

const SCHEMA = {
  schema: {
    inputs: [
      { name: 'image', type: 'IMAGE', required: true },
      { name: 'seed', type: 'INT', required: false },
    ],
    outputs: [{ name: 'result', type: 'IMAGE' }],
    transports: ['json', 'binary'],
  },
}

function serve(path: string, method: string, body: string): [number, string, string] {
  const js = 'text/javascript'
  if (path === '/')
    return [
      200,
      'text/html',
      '<!doctype html><pre id="report"></pre><script type="module" src="/harness.js"></script>',
    ]
  if (path === '/harness.js' || path === '/frontend.js')
    return [200, js, readFileSync(join(FIXTURES, path.slice(1)), 'utf8')]
  // The shims the real frontend build emits for src/scripts/{app,api}.ts (build/plugins/comfyAPIPlugin.ts).
  if (path === '/scripts/app.js') return [200, js, 'export const app = window.comfyAPI.app.app;\n']
  if (path === '/scripts/api.js') return [200, js, 'export const api = window.comfyAPI.api.api;\n']
  if (path === '/extensions/comfy-remote/js/comfy-remote.js') return [200, js, readFileSync(BUNDLE, 'utf8')]
  if (path === '/api/comfy-remote/schema' && method === 'GET')
    return [200, 'application/json', JSON.stringify(SCHEMA)]
  if (path === '/api/comfy-remote/deploy' && method === 'POST') {
    deployBodies.push(JSON.parse(body))
    return [200, 'application/json', JSON.stringify({ deployId: 'dep-1' })]
  }
  return [404, 'text/plain', 'not found']
}

beforeAll(async () => {
  if (!hasChromium) return
  if (!existsSync(BUNDLE))
    throw new Error(`${BUNDLE} is missing: run "pnpm --filter @comfy-remote/comfyui-extension build" first`)
  server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x')
      if (url.pathname === '/api/comfy-remote/schema') schemaQueries.push(url.search)
      const [status, type, text] = serve(url.pathname, req.method ?? 'GET', Buffer.concat(chunks).toString())
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' }).end(text)
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  for (const dir of profiles) rmSync(dir, { recursive: true, force: true })
  if (server) await new Promise((r) => server.close(r))
})

/** Loads the page in headless Chromium and returns the page's report (from --dump-dom). */
function runPage(era: string): Promise<Report> {
  const profile = mkdtempSync(join(tmpdir(), 'cr-chromium-'))
  profiles.push(profile)
  const args = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-dev-shm-usage',
    `--user-data-dir=${profile}`,
    '--virtual-time-budget=20000',
    '--dump-dom',
    `${origin}/?era=${era}`,
  ]
  return new Promise((resolve, reject) => {
    execFile(
      CHROMIUM,
      args,
      { timeout: 40_000, maxBuffer: 16 << 20, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => {
        const m = /<pre id="report">([A-Za-z0-9+/=]+)<\/pre>/.exec(stdout)
        if (!m?.[1]) {
          reject(
            new Error(
              `no report from chromium (${error?.message ?? 'exit 0'}): ${stdout.slice(0, 500)} ${stderr.slice(-1500)}`,
            ),
          )
          return
        }
        resolve(JSON.parse(Buffer.from(m[1], 'base64').toString('utf8')) as Report)
      },
    )
  })
}

/** PNG screenshot of one scene (harness ?shot=run|failed), written to `file`. */
function screenshot(era: string, scene: string, file: string): Promise<void> {
  const profile = mkdtempSync(join(tmpdir(), 'cr-chromium-'))
  profiles.push(profile)
  const args = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--hide-scrollbars',
    '--force-device-scale-factor=1',
    `--user-data-dir=${profile}`,
    '--virtual-time-budget=10000',
    '--window-size=760,380',
    `--screenshot=${file}`,
    `${origin}/?era=${era}&shot=${scene}`,
  ]
  return new Promise((resolve, reject) => {
    execFile(CHROMIUM, args, { timeout: 40_000, killSignal: 'SIGKILL' }, (error, _out, stderr) =>
      error
        ? reject(new Error(`chromium --screenshot failed: ${error.message} ${stderr.slice(-800)}`))
        : resolve(),
    )
  })
}

const hasPython = spawnSync('python3', ['--version']).status === 0

/** The pack's own Python turns the captured POST body into the bridge request (routes.deploy_request_from_body). */
function pythonDeployRequest(body: unknown): Record<string, unknown> {
  const code = [
    'import json, sys',
    'from comfy_remote.routes import deploy_request_from_body',
    'print(json.dumps(deploy_request_from_body(json.loads(sys.stdin.read()))))',
  ].join('\n')
  const r = spawnSync('python3', ['-c', code], {
    cwd: PACK_DIR,
    input: JSON.stringify(body),
    encoding: 'utf8',
    timeout: 20_000,
  })
  if (r.error || r.status !== 0)
    throw new Error(`routes.deploy_request_from_body refused the body: ${r.stderr}`)
  return JSON.parse(r.stdout) as Record<string, unknown>
}

describe.skipIf(!hasChromium)('frontend extension in headless Chromium (fake ComfyUI frontend)', () => {
  for (const era of ['legacy', 'current'] as const) {
    it(`${era} frontend: loads, registers and works with no page errors`, async () => {
      const before = deployBodies.length
      schemaQueries.length = 0
      const report = await runPage(era)
      expect(report.done).toBe(true)
      expect(report.errors).toEqual([])
      // No "Unhandled message ... Unknown message type comfy-remote.deploy", no deprecated app.graph reads.
      expect(report.warnings).toEqual([])
      const s = report.steps
      expect(s.registered).toEqual([
        {
          name: 'comfyRemote.NodePack',
          commands: ['comfyRemote.deployWorkflow', 'comfyRemote.loadInputsFromEndpoint'],
          menus: ['Extensions/Comfy Remote'],
        },
      ])
      // Inside subgraph #5, Remote Output #2 runs as "5:2" (graphToPrompt flattens subgraphs).
      expect(s.duplicateDrawn).toEqual([
        'Remote Output key "result" is also used by #3, #5:2: rename one of them.',
      ])
      expect(s.innerDuplicateDrawn).toEqual([
        'Remote Output key "result" is also used by #2, #3: rename one of them.',
      ])
      const dupNotes = era === 'current' ? report.toasts.map((t) => t.detail) : report.logs
      expect(dupNotes.join('\n')).toContain('output "result": nodes #2, #3, #5:2')
      expect(s.status).toEqual({ root: ['root: queued'], inner: ['30% (3/10) - inner: sampling'] })
      expect(s.statusFromState).toEqual(['70% (7/10) - root: queued'])
      expect((s.nodeMenu as string[]).filter((c) => c === 'Load inputs from endpoint')).toHaveLength(1)
      expect(s.nodeMenu).toContain('Bypass')
      expect(schemaQueries).toContain('?url=https%3A%2F%2Fme--app.modal.run')
      const second = era === 'legacy' ? 'input_2_$remote_inputs_ag$' : 'remote_inputs.input1'
      const first = era === 'legacy' ? 'input_1_$remote_inputs_ag$' : 'remote_inputs.input0'
      expect(s.inputs).toEqual([
        { name: first, type: 'IMAGE', label: 'image' },
        { name: second, type: 'INT', label: 'seed (optional)' },
      ])
      expect(s.inputNames).toBe('image, seed')
      expect(s.toolbox).toEqual([['comfyRemote.loadInputsFromEndpoint'], []])
      expect(s.selectionInputNames).toBe('image, seed')
      expect(schemaQueries).toContain('?url=https%3A%2F%2Finner--app.modal.run')
      expect(s.canvasMenu).toEqual(era === 'current' ? ['Deploy this workflow to Modal'] : [])
      expect(s.deploy).toEqual({
        status: 'Live at https://me--my-flow.modal.run',
        log: ['rendering project', '[1/2] modal deploy', 'Deployed: https://me--my-flow.modal.run'],
      })
      expect(s.dialogs).toBe(1)
      expect(s.dialogClosed).toBe(true)
      expect(s.afterRemoveDrawn).toEqual([
        'Remote Output key "result" is also used by #5:2: rename one of them.',
      ])

      // Old frontends (no native autogrow): readable labels, connected slots + one free one, same prompt keys.
      const AG = (k: number) => `input_${k}_$remote_inputs_ag$`
      if (era === 'legacy') {
        expect(s.freshSlots).toEqual(['input 1'])
        expect(s.afterConnect).toEqual(['input 1*', 'input 2'])
        expect(s.afterSecond).toEqual(['input 1*', 'input 2*', 'input 3'])
        expect(s.loadedSlots).toEqual(['input 1*', 'input 2*', 'input 3'])
        expect(s.loadedLinks).toEqual([0, 1, null])
        expect(s.loadedPrompt).toEqual([AG(1), AG(2)])
        expect(s.loadedPromptSources).toEqual(['20', 0])
      } else {
        // native autogrow: the frontend's own slots are left alone
        expect(s.freshSlots).toEqual(['remote_inputs.input0'])
        expect(s.afterConnect).toEqual(['remote_inputs.input0*'])
        expect(s.loadedSlots).toBeUndefined()
      }
      // Status: the frontend shows the progress text itself, so the pack draws nothing more; a failure is said.
      expect(s.nativeText).toBe('remote: sampling 12/20')
      expect(s.drawnWithNativeText).toEqual([])
      expect(s.drawnAfterFailure).toEqual([
        'failed: [NETWORK] POST http://127.0.0.1:9/run failed: connect ECONNREFUSED',
      ])
      expect(s.drawnAfterNextStart).toEqual([])

      expect(deployBodies.length).toBe(before + 1)
      const body = deployBodies.at(-1) as Record<string, unknown>
      expect(body).toMatchObject({
        appName: 'my-flow',
        gpu: 'H100',
        pipPackages: ['einops', 'kornia'],
        aptPackages: [],
        models: ['https://h/m.safetensors=checkpoints/m.safetensors'],
        modelsSecret: null,
        volume: 'vol',
        dryRun: true,
        cleanBuild: false,
        forceRebuild: false,
        deploy: true,
        memorySnapshot: true,
        gpuSnapshot: false,
        warmup: false,
        startupTimeoutSeconds: 1200,
      })
      expect(Object.keys(body.workflow as object).sort()).toEqual(['1', '2', '3', '4', '5:1', '5:2'])
      if (hasPython) {
        expect(pythonDeployRequest(body)).toMatchObject({
          op: 'deploy',
          appName: 'my-flow',
          gpu: 'H100',
          pipPackages: ['einops', 'kornia'],
          models: ['https://h/m.safetensors=checkpoints/m.safetensors'],
          volume: 'vol',
          dryRun: true,
          deploy: true,
          memorySnapshot: true,
          startupTimeoutSeconds: 1200,
          workflow: body.workflow,
        })
      }
    }, 60_000)
  }

  // The guide's pictures (docs/images/comfyui-*.png): COMFY_REMOTE_SCREENSHOTS=docs/images rewrites them.
  for (const era of ['legacy', 'current'] as const)
    for (const scene of ['run', 'failed'] as const)
      it(`${era} frontend: screenshot of the Remote API node ${scene === 'run' ? 'during a run' : 'after a failure'}`, async () => {
        const report = await runPage(`${era}&shot=${scene}`)
        expect(report.errors).toEqual([])
        expect(report.done).toBe(true)
        expect(report.steps.shot).toEqual(
          scene === 'run'
            ? { drawn: [], slots: era === 'legacy' ? ['input 1*', 'input 2'] : ['remote_inputs.input0*'] }
            : {
                drawn: ['failed: [NETWORK] POST https://me--my-flow.modal.run/run failed: fetch failed...'],
                slots: era === 'legacy' ? ['input 1*', 'input 2'] : ['remote_inputs.input0*'],
              },
        )
        const dir = process.env.COMFY_REMOTE_SCREENSHOTS
          ? join(PACK_DIR, '..', '..', process.env.COMFY_REMOTE_SCREENSHOTS)
          : mkdtempSync(join(tmpdir(), 'cr-shots-'))
        if (!process.env.COMFY_REMOTE_SCREENSHOTS) profiles.push(dir)
        const file = join(dir, `comfyui-${era}-${scene}.png`)
        await screenshot(era, scene, file)
        const png = readFileSync(file)
        expect(png.subarray(1, 4).toString()).toBe('PNG')
        expect(png.readUInt32BE(16)).toBe(760) // IHDR width
        expect(png.length).toBeGreaterThan(5000)
      }, 90_000)
})
