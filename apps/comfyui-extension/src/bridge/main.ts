import { dispatch } from './dispatch.js'
import { BridgeError, describeError } from './errors.js'
import { createEventSink } from './events.js'
import { parseRequest } from './request.js'

export { BRIDGE_VERSION } from './dispatch.js'

/** The largest request the bridge reads (big values travel as files, so this is generous). */
const MAX_REQUEST_BYTES = 256 * 1024 * 1024
/** After SIGTERM: how long the remote cancel (DELETE /jobs/:id) may take before the bridge exits anyway. */
const CANCEL_GRACE_MS = 3000

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > MAX_REQUEST_BYTES) {
      throw new BridgeError(
        'BAD_REQUEST',
        'The request on stdin is larger than 256 MiB; pass big values as files.',
      )
    }
    chunks.push(chunk)
  }
  const text = Buffer.concat(chunks).toString('utf8').trim()
  if (!text)
    throw new BridgeError('BAD_REQUEST', 'No request on stdin: write one JSON line, then close stdin.')
  return text
}

/** Runs one request from stdin to completion; resolves with the process exit code. */
export async function main(): Promise<number> {
  const sink = createEventSink(process.stdout)
  const controller = new AbortController()
  let finished = false
  let exitCode = 0

  const fail = async (error: unknown) => {
    const { code, message } = describeError(error)
    sink.emit({ event: 'error', code, message })
    exitCode = 1
  }

  const onSignal = (signal: NodeJS.Signals) => {
    if (finished || controller.signal.aborted) return
    process.stderr.write(`bridge: ${signal}, cancelling\n`)
    controller.abort(new BridgeError('CANCELLED', `Cancelled by ${signal}.`))
    // The remote cancel is best effort: give it CANCEL_GRACE_MS, then leave regardless.
    setTimeout(() => {
      if (finished) return
      finished = true
      sink.emit({
        event: 'error',
        code: 'CANCELLED',
        message: `Cancelled by ${signal}; the remote job may still be stopping.`,
      })
      void sink.flush().then(() => process.exit(1))
    }, CANCEL_GRACE_MS).unref()
  }
  process.on('SIGTERM', onSignal)
  process.on('SIGINT', onSignal)
  // The reader went away (Python died): nobody wants the result, so cancel the remote job like SIGTERM.
  process.stdout.on('error', () => onSignal('SIGPIPE'))

  try {
    const req = parseRequest(await readStdin())
    await dispatch(req, sink, controller.signal)
    if (controller.signal.aborted) throw controller.signal.reason
  } catch (error) {
    if (!finished) await fail(controller.signal.aborted ? controller.signal.reason : error)
  }
  if (!finished) {
    finished = true
    await sink.flush()
  }
  return exitCode
}
