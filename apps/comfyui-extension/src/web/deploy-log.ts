/** One `comfy-remote.deploy` websocket message (fields of the bridge event plus deployId). */
export interface DeployMessage {
  deployId: string
  event: 'log' | 'progress' | 'result' | 'error' | 'status'
  [field: string]: unknown
}

export interface DeployLine {
  level: 'debug' | 'info' | 'warning' | 'error' | 'success'
  text: string
}

export interface DeployLogState {
  deployId: string
  lines: DeployLine[]
  progress: { value: number; max: number; message: string | null } | null
  done: boolean
  url: string | null
  live: boolean
  error: { code: string; message: string } | null
}

/** Lines kept in the dialog (the full log is in the ComfyUI console). */
export const MAX_LOG_LINES = 2000

export function initialDeployLog(deployId: string): DeployLogState {
  return { deployId, lines: [], progress: null, done: false, url: null, live: false, error: null }
}

const str = (v: unknown, fallback = ''): string => (typeof v === 'string' ? v : fallback)

/** Reads a websocket detail defensively; null when it is not a deploy message. */
export function parseDeployMessage(detail: unknown): DeployMessage | null {
  if (typeof detail !== 'object' || detail === null) return null
  const d = detail as Record<string, unknown>
  if (typeof d.deployId !== 'string' || typeof d.event !== 'string') return null
  if (!['log', 'progress', 'result', 'error', 'status'].includes(d.event)) return null
  return d as DeployMessage
}

/** Text of one message as a log line, or null when it adds no line (e.g. a bare progress tick). */
export function formatDeployLine(msg: DeployMessage): DeployLine | null {
  switch (msg.event) {
    case 'log': {
      const level = str(msg.level, 'info')
      const text = str(msg.message).replace(/\s+$/, '')
      return { level: level === 'warning' || level === 'error' || level === 'debug' ? level : 'info', text }
    }
    case 'progress':
      return msg.message ? { level: 'info', text: `[${msg.value}/${msg.max}] ${str(msg.message)}` } : null
    case 'result': {
      const url = str(msg.url)
      if (msg.dryRun)
        return { level: 'warning', text: `Dry run finished: ${url} is a placeholder, not a live endpoint.` }
      if (!url)
        return { level: 'success', text: `Done. Project written to ${str(msg.projectDir)} (not deployed).` }
      return { level: 'success', text: `Deployed: ${url}` }
    }
    case 'error':
      return { level: 'error', text: `${str(msg.code, 'ERROR')}: ${str(msg.message)}` }
    case 'status':
      return { level: 'debug', text: `status: ${str(msg.status)}` }
  }
}

/** Reducer: the dialog's state after one more message (messages of other deployments are ignored). */
export function applyDeployMessage(state: DeployLogState, msg: DeployMessage): DeployLogState {
  if (msg.deployId !== state.deployId || state.done) return state
  const line = formatDeployLine(msg)
  let lines = line ? [...state.lines, line] : state.lines
  if (lines.length > MAX_LOG_LINES)
    lines = [{ level: 'debug', text: '...' }, ...lines.slice(-MAX_LOG_LINES + 1)]
  const next: DeployLogState = { ...state, lines }
  if (msg.event === 'progress' && typeof msg.value === 'number' && typeof msg.max === 'number') {
    next.progress = {
      value: msg.value,
      max: msg.max,
      message: typeof msg.message === 'string' ? msg.message : null,
    }
  } else if (msg.event === 'result') {
    next.done = true
    next.url = str(msg.url) || null
    next.live = msg.live === true
  } else if (msg.event === 'error') {
    next.done = true
    next.error = { code: str(msg.code, 'ERROR'), message: str(msg.message) }
  }
  return next
}

/** The whole log as plain text (for "copy log"). */
export function deployLogText(state: DeployLogState): string {
  return state.lines
    .map((l) => (l.level === 'info' ? l.text : `${l.level.toUpperCase()}: ${l.text}`))
    .join('\n')
}
