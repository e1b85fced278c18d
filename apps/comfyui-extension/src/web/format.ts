/** Progress as the Remote API node shows it: "42% (21/50) - sampling". */
export function formatProgress(value: number, max: number, text?: string | null): string {
  const parts: string[] = []
  if (Number.isFinite(value) && Number.isFinite(max) && max > 0) {
    const pct = Math.max(0, Math.min(100, Math.round((value / max) * 100)))
    parts.push(max === 100 || max === 1 ? `${pct}%` : `${pct}% (${value}/${max})`)
  }
  const t = text?.trim()
  if (t) parts.push(t)
  return parts.join(' - ')
}

/** Keeps long status lines readable inside a node: one line, at most `width` characters. */
export function clipLine(text: string, width = 60): string {
  const line = text.replace(/\s+/g, ' ').trim()
  return line.length <= width ? line : `${line.slice(0, Math.max(1, width - 3))}...`
}

/** Why a /comfy-remote/* call got no JSON answer: a 404 means the pack's Python routes are not registered. */
export function routeFailure(route: string, status: number, statusText: string): string {
  if (status === 404)
    return `ComfyUI has no ${route} route: the comfy-remote Python part did not load (see the ComfyUI console) or ComfyUI needs a restart.`
  return `${route} answered HTTP ${status} ${statusText}`.trim()
}
