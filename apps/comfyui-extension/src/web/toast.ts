import { app } from './comfy.js'

type Severity = 'success' | 'info' | 'warn' | 'error'

/** A toast through the frontend's toast service; falls back to the console on old frontends. */
export function toast(severity: Severity, summary: string, detail: string) {
  const manager = (app as unknown as { extensionManager?: { toast?: { add(m: unknown): void } } })
    .extensionManager
  if (manager?.toast)
    manager.toast.add({ severity, summary, detail, life: severity === 'error' ? 10000 : 5000 })
  else (severity === 'error' ? console.error : console.log)(`[comfy-remote] ${summary}: ${detail}`)
}
