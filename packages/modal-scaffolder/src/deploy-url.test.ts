import { describe, expect, it } from 'vitest'
import { deriveWebUrl } from './deploy-result.js'
import { parseDeployOutput } from './deploy-url.js'

const URL = 'https://my-long-workspace-name--echo-app-web.modal.run'
const ESC = String.fromCharCode(27)
const head = ['\u2713 Created objects.', '\u251c\u2500\u2500 \ud83d\udd28 Created mount /x/workflow.py']
const tail = [
  '\u2713 App deployed in 3.210s! \ud83c\udf89',
  '',
  'View Deployment: https://modal.com/apps/ws/main/deployed/echo-app',
]

function wrap(line: string, width: number, indent: string): string[] {
  const out: string[] = []
  for (let i = 0; i < line.length; i += width) out.push((i === 0 ? '' : indent) + line.slice(i, i + width))
  return out
}

describe('parseDeployOutput', () => {
  const web = `\u2514\u2500\u2500 \ud83d\udd28 Created web function web => ${URL}`
  it.each([
    ['one line', [...head, web, ...tail]],
    [
      'coloured',
      [
        ...head,
        `\u2514\u2500\u2500 ${ESC}[1mCreated web function web =>${ESC}[0m ${ESC}[32m${URL}${ESC}[0m`,
        ...tail,
      ],
    ],
    ['CRLF', [...head, `${web}\r`, ...tail]],
    ...[20, 33, 40, 48, 61].map(
      (w) => [`wrapped at ${w}`, [...head, ...wrap(web, w, '    '), ...tail]] as [string, string[]],
    ),
    ...[25, 37, 44].map(
      (w) =>
        [`wrapped at ${w} under a tree guide`, [...head, ...wrap(web, w, '\u2502   '), ...tail]] as [
          string,
          string[],
        ],
    ),
    [
      'arrow at line end',
      [
        ...head,
        '\u2514\u2500\u2500 Created web function web =>',
        `    ${URL.slice(0, 20)}`,
        `    ${URL.slice(20)}`,
        ...tail,
      ],
    ],
  ])('%s', (_name, lines) => {
    const parsed = parseDeployOutput(lines.join('\n'))
    expect(parsed.url).toBe(URL)
    expect(parsed.dashboardUrl).toBe('https://modal.com/apps/ws/main/deployed/echo-app')
  })

  // rich wraps at spaces and folds a word longer than the width; modal appends " \u{1f511}" (proxy auth)
  // or " (label truncated)" after the URL (modal/_output: FunctionCreationStatus).
  function richWrap(text: string, width: number, indent: string): string[] {
    const out: string[] = []
    let line = ''
    for (const word of text.split(' ')) {
      const candidate = line === '' ? word : `${line} ${word}`
      if (candidate.length <= width) {
        line = candidate
        continue
      }
      if (line !== '') out.push(line)
      let rest = word
      while (rest.length > width) {
        out.push(rest.slice(0, width))
        rest = rest.slice(width)
      }
      line = rest
    }
    if (line !== '') out.push(line)
    return out.map((l, i) => (i === 0 ? l : indent + l))
  }
  const suffixes = [' \u{1f511}', ' (label truncated)', ' (label stolen)', ' \u{1f511} (label truncated)']
  it.each(
    suffixes.flatMap((suffix) =>
      [24, 31, 38, 45, 52, 200].map((w) => [JSON.stringify(suffix), w, suffix] as [string, number, string]),
    ),
  )('suffix %s, rich-wrapped at %i', (_name, width, suffix) => {
    const line = `\u2514\u2500\u2500 \ud83d\udd28 Created web function web => ${URL}${suffix}`
    const parsed = parseDeployOutput([...head, ...richWrap(line, width, '    '), ...tail].join('\n'))
    expect(parsed.url).toBe(URL)
  })

  it('reads the class web endpoint form (Created web endpoint for Cls.method =>)', () => {
    const line = `\u2502   \u2514\u2500\u2500 \ud83d\udd28 Created web endpoint for ComfyWorker.web => ${URL}`
    expect(parseDeployOutput([...head, ...richWrap(line, 40, '\u2502       '), ...tail].join('\n')).url).toBe(
      URL,
    )
  })

  it('prefers the modal.run endpoint over other arrows', () => {
    const out = [
      '\u251c\u2500\u2500 Created thing => https://example.com/other',
      `\u2514\u2500\u2500 Created web function web => ${URL}`,
    ].join('\n')
    expect(parseDeployOutput(out).url).toBe(URL)
  })

  it('finds nothing in output without an endpoint', () => {
    expect(parseDeployOutput([...head, ...tail].join('\n')).url).toBeUndefined()
  })
})

describe('deriveWebUrl', () => {
  it.each([
    ['https://modal.com/apps/ws/main/deployed/echo-app', 'echo-app', 'https://ws--echo-app-web.modal.run'],
    ['https://modal.com/apps/ws/main/deployed/My_App', 'My_App', 'https://ws--my-app-web.modal.run'],
    ['https://modal.com/apps/ws/dev/deployed/echo-app', 'echo-app', undefined], // env suffix unknown
    ['https://modal.com/apps/ws/main/deployed/other', 'echo-app', undefined],
    [`https://modal.com/apps/ws/main/deployed/${'a'.repeat(59)}`, 'a'.repeat(59), undefined], // truncated label
    [undefined, 'echo-app', undefined],
  ])('%s (%s) -> %s', (dashboard, app, url) => {
    expect(deriveWebUrl(dashboard, app)).toBe(url)
  })
})
