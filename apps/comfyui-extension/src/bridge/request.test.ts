import { describe, expect, it } from 'vitest'
import { parseRequest } from './request.js'

describe('parseRequest', () => {
  it('fills defaults of a minimal run request', () => {
    expect(parseRequest('{"op":"run","url":"http://h:1","workDir":"/tmp/w"}')).toEqual({
      op: 'run',
      url: 'http://h:1',
      token: null,
      timeout: 300,
      pollInterval: 1.5,
      inputs: {},
      workDir: '/tmp/w',
      transport: 'auto',
      previews: false,
      refsToCaller: false,
    })
    const refs = parseRequest('{"op":"run","url":"http://h:1","workDir":"/tmp/w","refsToCaller":true}')
    expect(refs).toMatchObject({ op: 'run', refsToCaller: true })
  })

  it('normalises a deploy request (lists trimmed, blank gpu -> H100, empty token -> null)', () => {
    const req = parseRequest(
      JSON.stringify({
        op: 'deploy',
        workflowPath: '/w/wf.json',
        appName: ' app ',
        gpu: ' ',
        pipPackages: [' a ', ''],
        models: [' https://h/m.safetensors=checkpoints/m.safetensors '],
        modelsSecret: ' ',
        volume: ' vol ',
      }),
    )
    expect(req).toMatchObject({
      op: 'deploy',
      appName: 'app',
      gpu: 'H100',
      pipPackages: ['a'],
      models: ['https://h/m.safetensors=checkpoints/m.safetensors'],
      modelsSecret: null,
      volume: 'vol',
      deploy: true,
      dryRun: false,
    })
    expect(parseRequest('{"op":"deploy","appName":"a","deleteApp":true}')).toMatchObject({
      deleteApp: true,
      workflow: null,
      models: [],
      modelsSecret: null,
      volume: null,
      memorySnapshot: false,
      gpuSnapshot: false,
      warmup: false,
      startupTimeoutSeconds: null,
    })
    const cold =
      '{"op":"deploy","workflow":{},"memorySnapshot":true,"warmup":true,"startupTimeoutSeconds":1200}'
    expect(parseRequest(cold)).toMatchObject({
      memorySnapshot: true,
      warmup: true,
      startupTimeoutSeconds: 1200,
    })
    expect(parseRequest('{"op":"schema","url":"https://x","token":""}')).toEqual({
      op: 'schema',
      url: 'https://x',
      token: null,
    })
  })

  it.each([
    ['{"op":"run","url":"http://h","workDir":"/w","timeout":-1}', /"timeout" must be a number >= 0.001/],
    [
      '{"op":"run","url":"http://h","workDir":"/w","transport":"grpc"}',
      /"transport" must be "auto" or "json"/,
    ],
    ['{"op":"run","url":"http://h","workDir":"/w","inputs":[]}', /"inputs" must be an object/],
    ['{"op":"deploy","workflow":[1]}', /"workflow" must be an API-format prompt/],
    ['{"op":"deploy","workflow":{},"deploy":"yes"}', /"deploy" must be true or false/],
    ['{"op":"deploy","workflow":{},"aptPackages":"git"}', /"aptPackages" must be a list of strings/],
    ['{"op":"deploy","workflow":{},"models":"https://h/m=a/b"}', /"models" must be a list of "<https url>=/],
    ['{"op":"deploy","workflow":{},"models":[1]}', /"models" must be a list/],
    ['{"op":"deploy","workflow":{},"modelsSecret":5}', /"modelsSecret" must be a string or null/],
    ['{"op":"deploy","workflow":{},"volume":["v"]}', /"volume" must be a string or null/],
    ['{"op":"deploy","workflow":{},"gpuSnapshot":1}', /"gpuSnapshot" must be true or false/],
    [
      '{"op":"deploy","workflow":{},"startupTimeoutSeconds":"900"}',
      /"startupTimeoutSeconds" must be a whole number/,
    ],
    ['[1]', /"\(request\)" must be a JSON object/],
  ])('rejects %s', (text, message) => {
    expect(() => parseRequest(text)).toThrow(message)
  })
})
