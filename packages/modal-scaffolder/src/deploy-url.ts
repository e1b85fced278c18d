/**
 * Finds the endpoint URL in `modal deploy` output. The CLI draws a tree with rich, colours it and
 * wraps long lines at the terminal width, which can split a URL over several lines (continuation
 * lines may carry tree glyphs). We strip colours, find the web function line (`=> https://...`),
 * and rejoin the URL from the following lines while they continue it.
 */
const ANSI_RE = new RegExp(`${String.fromCharCode(27)}\\[[0-9;?]*[ -/]*[@-~]`, 'g')
const TREE_PREFIX = /^[\s\u2500-\u257f]*/
// Characters a wrapped URL continues with (no brackets or quotes: "(label truncated)" is not URL).
const CONTINUATION_CHARS = /^[A-Za-z0-9\-._~:/?#@!$&*+,;=%]+$/

export interface DeployUrls {
  /** The web endpoint (`https://<workspace>--<app>-web.modal.run`). */
  url: string | undefined
  /** The dashboard link (`https://modal.com/apps/...`), when printed. */
  dashboardUrl: string | undefined
}

export function stripAnsi(text: string): string {
  return text
    .replace(ANSI_RE, '')
    .replace(/\r(?!\n)/g, '\n')
    .replace(/\r\n/g, '\n')
}

function rejoin(lines: string[], start: number, first: string): string {
  let url = first
  for (let i = start + 1; i < lines.length; i++) {
    const raw = lines[i] ?? ''
    const next = raw.replace(TREE_PREFIX, '').trimEnd()
    // A continuation is URL characters, optionally followed by a suffix the CLI prints after the URL
    // (" \u{1f511}" for proxy auth, " (label truncated)", " (label stolen)"), which ends the URL.
    const head = /^\S+/.exec(next)?.[0] ?? ''
    if (
      head === '' ||
      !CONTINUATION_CHARS.test(head) ||
      head.startsWith('https://') ||
      head.startsWith('http://')
    )
      break
    url += head
    if (head !== next) break
  }
  return url
}

function urlsAfterArrows(lines: string[]): string[] {
  const found: string[] = []
  lines.forEach((line, i) => {
    const at = line.indexOf('=>')
    if (at < 0) return
    let rest = line.slice(at + 2).trim()
    let index = i
    if (rest === '' && i + 1 < lines.length) {
      index = i + 1
      rest = (lines[index] ?? '').replace(TREE_PREFIX, '').trim()
    }
    const match = /^https?:\/\/\S*/.exec(rest)
    if (match && rest === match[0]) found.push(rejoin(lines, index, match[0]))
    else if (match) found.push(match[0])
  })
  return found
}

const URL_CLASS = "A-Za-z0-9\\-._~:/?#[\\]@!$&'()*+,;=%"
const FLAT_ARROW_RE = new RegExp(`=>\\s*(https://[A-Za-z0-9.-]+\\.modal\\.run[${URL_CLASS}]*)`)

export function parseDeployOutput(output: string): DeployUrls {
  const lines = stripAnsi(output).split('\n')
  const arrows = urlsAfterArrows(lines)
  let url = arrows.find((u) => /\.modal\.run(\/|$)/.test(u)) ?? arrows[0]
  if (url === undefined) {
    // "=>" itself was split by wrapping: rejoin continuation lines and look again.
    const flat = lines.map((l) => l.replace(TREE_PREFIX, '').trimEnd()).join('')
    url =
      FLAT_ARROW_RE.exec(flat)?.[1] ??
      /https:\/\/[A-Za-z0-9.-]+\.modal\.run[^\s]*/.exec(lines.join('\n'))?.[0]
  }
  const dashboards: string[] = []
  lines.forEach((line, i) => {
    const match = /https:\/\/modal\.com\/apps\/\S*/.exec(line)
    if (match) dashboards.push(line.trim().endsWith(match[0]) ? rejoin(lines, i, match[0]) : match[0])
  })
  const dashboardUrl = dashboards.find((d) => d.includes('/deployed/')) ?? dashboards[0]
  return { url: url?.replace(/[.,;)]+$/, ''), dashboardUrl }
}
