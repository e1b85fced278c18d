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

/**
 * Why a /comfy-remote/* call got no JSON answer. 404 (and 405: ComfyUI has another route on that path
 * for GET only) means the pack's routes are not registered in this ComfyUI: name the route and the causes.
 */
export function routeFailure(route: string, status: number, statusText: string, method = 'GET'): string {
  if (status === 404 || status === 405)
    return (
      `ComfyUI has no ${method} ${route} route (HTTP ${status}): the comfy-remote routes are not registered. ` +
      'Likely cause: the pack failed to import (look for "comfy-remote" in the ComfyUI console), or an older ' +
      'pack build that added its routes only in on_load(), which ComfyUI before 0.14 never calls: update the ' +
      'pack and restart ComfyUI.'
    )
  return `${method} ${route} answered HTTP ${status} ${statusText}`.trim()
}
