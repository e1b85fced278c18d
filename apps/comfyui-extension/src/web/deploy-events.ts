import { api } from './comfy.js'
import { type DeployMessage, parseDeployMessage } from './deploy-log.js'

/** The PromptServer `send_sync` message type the pack's deploy route emits (comfy_remote/routes.py). */
export const DEPLOY_EVENT = 'comfy-remote.deploy'

const subscribers = new Set<(msg: DeployMessage) => void>()
let listening = false

/**
 * Subscribes to `comfy-remote.deploy` once, from the extension's setup. The frontend's api.ts dispatches a
 * custom websocket message type only after something called `api.addEventListener` for it; before that
 * every such message (the route broadcasts to all tabs) is logged as "Unhandled message ... Unknown
 * message type". Listening from setup keeps the console clean even when no dialog is open.
 */
export function listenForDeployMessages() {
  if (listening) return
  listening = true
  ;(api as unknown as EventTarget).addEventListener(DEPLOY_EVENT, (e) => {
    const msg = parseDeployMessage((e as CustomEvent).detail)
    if (!msg) return
    for (const fn of [...subscribers]) fn(msg)
  })
}

/** Calls `fn` for every deploy message until the returned function is called. */
export function onDeployMessage(fn: (msg: DeployMessage) => void): () => void {
  listenForDeployMessages()
  subscribers.add(fn)
  return () => {
    subscribers.delete(fn)
  }
}
