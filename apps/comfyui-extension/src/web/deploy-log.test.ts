import { describe, expect, it } from 'vitest'
import {
  applyDeployMessage,
  deployLogText,
  formatDeployLine,
  initialDeployLog,
  MAX_LOG_LINES,
  parseDeployMessage,
} from './deploy-log.js'
import { appNameProblem, buildDeployBody, DEFAULT_DEPLOY_FORM, splitList } from './deploy-request.js'
import { clipLine, formatProgress, routeFailure } from './format.js'

const msg = (event: string, fields: Record<string, unknown> = {}) => ({ deployId: 'd1', event, ...fields })

describe('deploy log', () => {
  it('folds a deployment into lines, progress and a final URL', () => {
    let s = initialDeployLog('d1')
    const events = [
      msg('progress', { value: 0, max: 2, message: 'Writing the Modal project' }),
      msg('log', { level: 'info', message: 'Wrote the Modal project to /p/app (5 files)\n' }),
      msg('log', { level: 'warning', message: 'slow build' }),
      msg('progress', { value: 2, max: 2, message: null }),
      msg('result', { url: 'https://x--app.modal.run', projectDir: '/p/app', dryRun: false, live: true }),
      msg('log', { message: 'after the end' }),
    ]
    for (const e of events) s = applyDeployMessage(s, parseDeployMessage(e)!)
    expect(s.done).toBe(true)
    expect(s.live).toBe(true)
    expect(s.url).toBe('https://x--app.modal.run')
    expect(s.progress).toEqual({ value: 2, max: 2, message: null })
    expect(deployLogText(s)).toBe(
      [
        '[0/2] Writing the Modal project',
        'Wrote the Modal project to /p/app (5 files)',
        'WARNING: slow build',
        'SUCCESS: Deployed: https://x--app.modal.run',
      ].join('\n'),
    )
  })

  it('ignores other deployments and junk, ends on error', () => {
    let s = initialDeployLog('d1')
    expect(parseDeployMessage({ event: 'log' })).toBeNull()
    expect(parseDeployMessage({ deployId: 'd1', event: 'explode' })).toBeNull()
    s = applyDeployMessage(s, { deployId: 'other', event: 'log', message: 'x' })
    expect(s.lines).toEqual([])
    s = applyDeployMessage(
      s,
      parseDeployMessage(msg('error', { code: 'MODAL_NOT_FOUND', message: 'pip install modal' }))!,
    )
    expect(s.error).toEqual({ code: 'MODAL_NOT_FOUND', message: 'pip install modal' })
    expect(deployLogText(s)).toBe('ERROR: MODAL_NOT_FOUND: pip install modal')
  })

  it('marks dry runs as not live', () => {
    const line = formatDeployLine(
      parseDeployMessage(msg('result', { url: 'https://a.dry-run.invalid', dryRun: true }))!,
    )
    expect(line).toEqual({
      level: 'warning',
      text: 'Dry run finished: https://a.dry-run.invalid is a placeholder, not a live endpoint.',
    })
  })

  it('keeps at most MAX_LOG_LINES lines', () => {
    let s = initialDeployLog('d1')
    for (let i = 0; i < MAX_LOG_LINES + 50; i++)
      s = applyDeployMessage(s, parseDeployMessage(msg('log', { message: `l${i}` }))!)
    expect(s.lines).toHaveLength(MAX_LOG_LINES)
    expect(s.lines.at(-1)?.text).toBe(`l${MAX_LOG_LINES + 49}`)
  })
})

describe('deploy request', () => {
  const prompt = {
    '1': { class_type: 'ComfyRemoteInput', inputs: { key: 'a' } },
    '2': { class_type: 'ComfyRemoteOutput', inputs: {} },
  }

  it('builds the POST body from the form', () => {
    const body = buildDeployBody(prompt, {
      ...DEFAULT_DEPLOY_FORM,
      appName: ' my-app ',
      gpu: '',
      pipPackages: 'a, b\nc',
      dryRun: true,
      models: '# base\n https://h/m.safetensors=checkpoints/m.safetensors \n\nhttps://h/l.pt=loras/l.pt\n',
      volume: ' vol ',
    })
    expect(body).toEqual({
      workflow: prompt,
      appName: 'my-app',
      gpu: 'H100',
      pipPackages: ['a', 'b', 'c'],
      aptPackages: [],
      dryRun: true,
      cleanBuild: false,
      forceRebuild: false,
      deploy: true,
      models: ['https://h/m.safetensors=checkpoints/m.safetensors', 'https://h/l.pt=loras/l.pt'],
      modelsSecret: null,
      volume: 'vol',
      memorySnapshot: false,
      gpuSnapshot: false,
      warmup: false,
      startupTimeoutSeconds: 900,
    })
  })

  it.each([
    [{}, /empty.*Remote Output/],
    [{ '1': { class_type: 'KSampler' } }, /no Remote Output/],
    [{ '3': { class_type: 'ComfyRemoteModalDeployment' } }, /empty.*Remote Output/],
  ])('rejects unusable workflows (%#)', (p, message) => {
    expect(() => buildDeployBody(p as never, DEFAULT_DEPLOY_FORM)).toThrow(message)
  })

  it('leaves Modal Deployment nodes out of the deployed workflow, as the Python route does', () => {
    const withDeploy = { ...prompt, '3': { class_type: 'ComfyRemoteModalDeployment', inputs: {} } }
    expect(buildDeployBody(withDeploy, DEFAULT_DEPLOY_FORM).workflow).toEqual(prompt)
  })

  it.each([
    ['ok-name', null],
    ['', /empty/],
    ['bad name', /may only contain/],
    ['x'.repeat(63), null],
    ['x'.repeat(64), /63/],
    ['-x', /start/],
    ['my.app', /may only contain/],
  ])('app name %j', (name, problem) => {
    const p = appNameProblem(name)
    if (problem === null) expect(p).toBeNull()
    else expect(p).toMatch(problem)
  })

  it('splits package lists', () => expect(splitList(' a,,b \n c ')).toEqual(['a', 'b', 'c']))
})

describe('format', () => {
  it.each([
    [[3, 10, 'sampling'], '30% (3/10) - sampling'],
    [[50, 100, null], '50%'],
    [[0.25, 1, ''], '25%'],
    [[1, 0, 'queued'], 'queued'],
    [[12, 10, undefined], '100% (12/10)'],
  ])('formatProgress(%j) = %s', ([v, m, t], out) =>
    expect(formatProgress(v as number, m as number, t as string)).toBe(out),
  )

  it('explains a missing route', () => {
    const missing = routeFailure('/comfy-remote/schema', 404, 'Not Found')
    expect(missing).toContain('no GET /comfy-remote/schema route (HTTP 404)')
    expect(missing).toMatch(/failed to import .*on_load\(\), which ComfyUI before 0\.14 never calls/)
    expect(missing).not.toMatch(/Python part did not load/)
    // 0.3.64 answered the missing POST with 405 (another route holds the path for GET only)
    expect(routeFailure('/comfy-remote/deploy', 405, 'Method Not Allowed', 'POST')).toContain(
      'no POST /comfy-remote/deploy route (HTTP 405)',
    )
    expect(routeFailure('/comfy-remote/deploy', 502, 'Bad Gateway', 'POST')).toBe(
      'POST /comfy-remote/deploy answered HTTP 502 Bad Gateway',
    )
  })

  it('clips long lines', () => {
    expect(clipLine('a\n b', 10)).toBe('a b')
    expect(clipLine('x'.repeat(20), 10)).toBe('xxxxxxx...')
  })
})
