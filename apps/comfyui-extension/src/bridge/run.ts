import type { PreviewInfo } from '@comfy-remote/remote-client'
import { openClient } from './client.js'
import type { EventSink } from './events.js'
import { loadInputValues, storeOutputValues } from './files.js'
import type { RunRequest, SchemaRequest } from './request.js'

/** `run`: files -> remote-client run -> files; progress and status streamed as events. */
export async function runOp(req: RunRequest, sink: EventSink, signal: AbortSignal): Promise<void> {
  const inputs = await loadInputValues(req.inputs, req.workDir)
  const client = await openClient(req)
  let last = ''
  let lastStatus = ''
  const envelope = await client.run(inputs, {
    signal,
    ...(req.refsToCaller ? { keepRefs: true } : { outputFiles: { dir: req.workDir } }),
    onProgress(p) {
      const key = `${p.value}/${p.max}/${p.message ?? ''}/${p.node ?? ''}`
      if (key === last) return
      last = key
      sink.emit({
        event: 'progress',
        value: p.value,
        max: p.max,
        message: p.message ?? null,
        node: p.node ?? null,
        classType: p.classType ?? null,
      })
    },
    ...(req.previews
      ? {
          onPreview(p: PreviewInfo) {
            const data = Buffer.from(p.data.buffer, p.data.byteOffset, p.data.byteLength).toString('base64')
            sink.emit({
              event: 'preview',
              node: p.node ?? null,
              classType: p.classType ?? null,
              mime: p.mime,
              data,
            })
          },
        }
      : {}),
    onStatus(s) {
      const key = `${s.status}/${s.jobId ?? ''}/${s.queuePosition ?? ''}`
      if (key === lastStatus) return
      lastStatus = key
      sink.emit({ event: 'status', status: s.status, jobId: s.jobId, queuePosition: s.queuePosition })
    },
  })
  if (!lastStatus.startsWith('completed/')) {
    sink.emit({ event: 'status', status: 'completed', jobId: envelope.jobId ?? null, queuePosition: null })
  }
  const stored = await storeOutputValues(envelope.outputs ?? {}, envelope.result, req.workDir, (ref) =>
    client.refRequest(ref),
  )
  sink.emit({
    event: 'result',
    outputs: stored.outputs,
    result: stored.result,
    timings: envelope.timings ?? null,
    // for the caller to send once it has read the outputs (`DELETE /jobs/:id/outputs`): the worker then
    // deletes the job's inputs and outputs at once instead of keeping them for its result TTL
    release: envelope.jobId ? client.refRequest(`/jobs/${encodeURIComponent(envelope.jobId)}/outputs`) : null,
  })
}

/** `schema`: the endpoint's `/schema` (inputs, outputs, transports). */
export async function schemaOp(req: SchemaRequest, sink: EventSink, _signal: AbortSignal): Promise<void> {
  const client = await openClient({ ...req, timeout: 60, pollInterval: 1, transport: 'auto', retries: 1 })
  const schema = await client.schema()
  sink.emit({ event: 'result', schema })
}
