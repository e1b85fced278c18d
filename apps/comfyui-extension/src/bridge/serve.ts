import { createInterface } from 'node:readline'
import type { Readable, Writable } from 'node:stream'
import { dispatch } from './dispatch.js'
import { BridgeError, describeError } from './errors.js'
import { createEventSink, type EventSink } from './events.js'
import { parseRequestValue } from './request.js'

/** After a cancel: how long the remote cancel (DELETE /jobs/:id) may take before CANCELLED is sent anyway. */
const CANCEL_GRACE_MS = 3000

type Obj = Record<string, unknown>
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)

interface InFlight {
  controller: AbortController
  /** A terminal event (`result` or `error`) went out: nothing more is sent for this id. */
  finished: boolean
  settled: Promise<void>
  timer?: NodeJS.Timeout
}

export interface ServeOptions {
  input?: Readable
  output?: Writable
  /** Also stop on these signals (default SIGTERM and SIGINT; tests pass []). */
  signals?: NodeJS.Signals[]
}

/**
 * Serve mode (`bridge.mjs --serve`): one JSON request per stdin line, each with a string `id`; every event
 * carries that `id`. Requests run concurrently; `{"op":"cancel","id"}` cancels one. stdin EOF, SIGTERM or a
 * closed stdout cancel everything in flight (bounded CANCEL_GRACE_MS) and resolve with the exit code.
 */
export function serve(opts: ServeOptions = {}): Promise<number> {
  const input = opts.input ?? process.stdin
  const output = opts.output ?? process.stdout
  const base = createEventSink(output)
  const inflight = new Map<string, InFlight>()
  let closing = false
  let resolveExit: (code: number) => void = () => {}
  const exited = new Promise<number>((resolve) => {
    resolveExit = resolve
  })

  const sinkFor = (id: string, state: InFlight): EventSink => ({
    emit(event) {
      if (state.finished) return
      if (event.event === 'result' || event.event === 'error') state.finished = true
      base.emit({ id, ...event })
    },
    flush: () => base.flush(),
  })

  const fail = (sink: EventSink, error: unknown) => {
    const { code, message } = describeError(error)
    sink.emit({ event: 'error', code, message })
  }

  function start(id: string, raw: Obj) {
    const state: InFlight = { controller: new AbortController(), finished: false, settled: Promise.resolve() }
    inflight.set(id, state)
    const sink = sinkFor(id, state)
    const { signal } = state.controller
    state.settled = (async () => {
      try {
        await dispatch(parseRequestValue(raw), sink, signal)
        if (signal.aborted) throw signal.reason
      } catch (error) {
        fail(sink, signal.aborted ? signal.reason : error)
      } finally {
        clearTimeout(state.timer)
        inflight.delete(id)
      }
    })()
  }

  function cancel(id: string, why: string): boolean {
    const state = inflight.get(id)
    if (!state || state.controller.signal.aborted) return false
    state.controller.abort(new BridgeError('CANCELLED', why))
    // The remote cancel is best effort: give it CANCEL_GRACE_MS, then report CANCELLED regardless.
    state.timer = setTimeout(() => {
      fail(sinkFor(id, state), new BridgeError('CANCELLED', `${why} The remote job may still be stopping.`))
    }, CANCEL_GRACE_MS)
    return true
  }

  function handleLine(line: string) {
    const text = line.trim()
    if (!text) return
    let raw: unknown
    try {
      raw = JSON.parse(text)
    } catch {
      base.emit({
        id: null,
        event: 'error',
        code: 'BAD_REQUEST',
        message: `Serve mode reads one JSON object per line; could not parse ${JSON.stringify(text.slice(0, 80))}.`,
      })
      return
    }
    const id = isObj(raw) && typeof raw.id === 'string' && raw.id !== '' ? raw.id : null
    if (!isObj(raw) || id === null) {
      const got = isObj(raw) ? JSON.stringify(raw.id ?? null) : 'a non-object'
      const message = `Request field "id" must be a non-empty string in serve mode; got ${got}.`
      base.emit({ id: null, event: 'error', code: 'BAD_REQUEST', message })
      return
    }
    if (raw.op === 'cancel') {
      if (!cancel(id, 'Cancelled by the client.'))
        process.stderr.write(`bridge: cancel of unknown or finished request ${JSON.stringify(id)}\n`)
      return
    }
    if (inflight.has(id)) {
      const message = `Request id ${JSON.stringify(id)} is already in flight; use a new id per request.`
      base.emit({ id: null, event: 'error', code: 'BAD_REQUEST', message })
      return
    }
    if (closing) {
      base.emit({ id, event: 'error', code: 'CANCELLED', message: 'The bridge is shutting down.' })
      return
    }
    start(id, raw)
  }

  async function shutdown(why: string) {
    if (closing) return
    closing = true
    const states = [...inflight.entries()]
    for (const [id] of states) cancel(id, `Cancelled: ${why}.`)
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      Promise.all(states.map(([, s]) => s.settled)),
      new Promise((resolve) => {
        timer = setTimeout(resolve, CANCEL_GRACE_MS + 100)
      }),
    ])
    clearTimeout(timer)
    for (const [id, state] of states)
      fail(sinkFor(id, state), new BridgeError('CANCELLED', `Cancelled: ${why}.`))
    await base.flush()
    resolveExit(0)
  }

  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })
  lines.on('line', handleLine)
  lines.on('close', () => void shutdown('stdin closed'))
  output.on('error', () => void shutdown('stdout closed'))
  for (const sig of opts.signals ?? (['SIGTERM', 'SIGINT'] as NodeJS.Signals[])) {
    process.on(sig, () => {
      process.stderr.write(`bridge: ${sig}, cancelling every request\n`)
      void shutdown(sig)
    })
  }
  return exited
}
