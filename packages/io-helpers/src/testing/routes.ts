import { randomUUID } from 'node:crypto'
import type { ServerResponse } from 'node:http'
import { isRecord } from '../types.js'
import { executePrompt } from './executor.js'
import { readFixtureJson } from './fixtures.js'
import type { RecordedRequest } from './http-util.js'
import { sendEmpty, sendJson, sendText } from './http-util.js'
import { releaseRemoteOutputFiles, sharedFolderRoute } from './remote-files.js'
import type { FakeState } from './state.js'
import { queueTuple } from './state.js'
import { uploadImage, viewFile } from './upload-view.js'
import { validatePrompt } from './validate.js'

/** Start the next queued prompt when idle (one at a time, like ComfyUI's single worker). */
export function pump(state: FakeState): void {
  if (state.running || state.pending.length === 0) return
  const item = state.pending.shift()!
  state.running = item
  state.interruptRequested = false
  state.broadcastStatus()
  void executePrompt(state, item)
    .catch(() => {
      state.running = undefined
    })
    .finally(() => setImmediate(() => pump(state)))
}

function postPrompt(state: FakeState, body: unknown, res: ServerResponse): void {
  if (!isRecord(body)) {
    sendText(res, 500, '500 Internal Server Error\n\nServer got itself in trouble')
    return
  }
  let number = state.number
  if ('number' in body) number = Number(body.number)
  else {
    if (body.front === true) number = -number
    state.number += 1
  }
  if (!('prompt' in body)) {
    const error = {
      type: 'no_prompt',
      message: 'No prompt provided',
      details: 'No prompt provided',
      extra_info: {},
    }
    sendJson(res, 400, { error, node_errors: {} })
    return
  }
  const promptId = String(body.prompt_id ?? randomUUID())
  const result = validatePrompt(
    { objectInfo: state.objectInfo, hasInputFile: (name) => state.files.inputFile(name) !== undefined },
    body.prompt,
  )
  if (!result.ok) {
    sendJson(res, 400, { error: result.error, node_errors: result.nodeErrors })
    return
  }
  const extraData: Record<string, unknown> = isRecord(body.extra_data) ? { ...body.extra_data } : {}
  if ('client_id' in body) extraData.client_id = body.client_id
  const prompt = structuredClone(body.prompt) as FakeState['pending'][number]['prompt']
  state.pending.push({ number, promptId, prompt, extraData, outputs: result.outputs })
  state.broadcastStatus()
  sendJson(res, 200, { prompt_id: promptId, number, node_errors: result.nodeErrors })
  setImmediate(() => pump(state))
}

function historyBody(state: FakeState, maxItems?: number): Record<string, unknown> {
  const entries = [...state.history]
  return Object.fromEntries(
    maxItems === undefined ? entries : entries.slice(Math.max(0, entries.length - maxItems)),
  )
}

function deleteFrom(body: unknown, remove: (id: string) => void, clear: () => void): void {
  if (!isRecord(body)) return
  if (body.clear === true) clear()
  if (Array.isArray(body.delete)) for (const id of body.delete) remove(String(id))
}

const MISC: Record<string, string> = {
  '/system_stats': 'misc/system_stats.json',
  '/features': 'misc/features.json',
  '/embeddings': 'misc/embeddings.json',
  '/extensions': 'misc/extensions.json',
}

/** Answer one HTTP request the way ComfyUI 0.3.64 does (paths also under `/api`). */
export async function route(state: FakeState, req: RecordedRequest, res: ServerResponse): Promise<void> {
  const path = req.path.startsWith('/api/') ? req.path.slice(4) : req.path
  const get = req.method === 'GET' || req.method === 'HEAD'
  const post = req.method === 'POST'
  if (get && path === '/object_info') return sendJson(res, 200, state.objectInfo)
  if (get && path.startsWith('/object_info/')) {
    const cls = decodeURIComponent(path.slice('/object_info/'.length))
    return sendJson(res, 200, state.objectInfo[cls] ? { [cls]: state.objectInfo[cls] } : {})
  }
  if (get && MISC[path]) return sendJson(res, 200, readFixtureJson(MISC[path]))
  if (get && path === '/prompt')
    return sendJson(res, 200, { exec_info: { queue_remaining: state.queueRemaining() } })
  if (post && path === '/prompt') return postPrompt(state, req.body, res)
  if (get && path === '/queue') {
    return sendJson(res, 200, {
      queue_running: state.running ? [queueTuple(state.running)] : [],
      queue_pending: state.pending.map(queueTuple),
    })
  }
  if (post && path === '/queue') {
    const drop = (id: string) => {
      const i = state.pending.findIndex((p) => p.promptId === id)
      if (i >= 0) state.pending.splice(i, 1)
    }
    deleteFrom(req.body, drop, () => state.pending.splice(0))
    state.broadcastStatus()
    return sendEmpty(res)
  }
  if (get && path === '/history') {
    const max = req.query.max_items === undefined ? undefined : Number.parseInt(req.query.max_items, 10)
    return sendJson(res, 200, historyBody(state, Number.isNaN(max) ? undefined : max))
  }
  if (get && path.startsWith('/history/')) {
    const id = decodeURIComponent(path.slice('/history/'.length))
    const entry = state.history.get(id)
    return sendJson(res, 200, entry ? { [id]: entry } : {})
  }
  if (post && path === '/history') {
    deleteFrom(
      req.body,
      (id) => state.history.delete(id),
      () => state.history.clear(),
    )
    return sendEmpty(res)
  }
  if (post && path === '/interrupt') {
    const target =
      isRecord(req.body) && typeof req.body.prompt_id === 'string' ? req.body.prompt_id : undefined
    if (state.running && (target === undefined || target === state.running.promptId))
      state.interruptRequested = true
    return sendEmpty(res)
  }
  if (post && path === '/upload/image') return uploadImage(state.files, req, res)
  if (get && path === '/view') return viewFile(state.files, req, res)
  if (post && path === '/comfy-remote/files/release') {
    const [status, body] = releaseRemoteOutputFiles(state.files, req.body)
    return sendJson(res, status, body)
  }
  if ((get && path === '/comfy-remote/files/folder') || (post && path === '/comfy-remote/files/probe')) {
    const [status, body] = sharedFolderRoute(state.files, post, req.body)
    return sendJson(res, status, body)
  }
  return sendText(res, 404, '404: Not Found')
}
