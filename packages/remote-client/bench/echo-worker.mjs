// A minimal v1 worker for the transport benchmark: POST /run?wait= echoes inputs as outputs in one
// round trip (multipart when the client asks for it), POST /raw echoes the body bytes.
import { createServer } from 'node:http'
import {
  decodeMultipart,
  encodeMultipartChunks,
  isMultipartContentType,
  serializeJson,
} from '@comfy-remote/protocol'

const server = createServer((req, res) => {
  const chunks = []
  req.on('data', (c) => chunks.push(c))
  req.on('end', () => {
    const body = Buffer.concat(chunks)
    const path = new URL(req.url ?? '/', 'http://x').pathname
    if (path === '/health') {
      res.writeHead(200, { 'content-type': 'application/json' })
      return res.end(JSON.stringify({ status: 'ok', transports: ['json', 'multipart'] }))
    }
    if (path === '/raw') {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.byteLength })
      return res.end(body)
    }
    const type = String(req.headers['content-type'] ?? '')
    const message = isMultipartContentType(type)
      ? decodeMultipart(new Uint8Array(body.buffer, body.byteOffset, body.byteLength), type)
      : JSON.parse(body.toString())
    const envelope = {
      status: 'completed',
      job_id: 'b1',
      progress: { value: 1, max: 1 },
      outputs: message.inputs,
    }
    if (String(req.headers.accept ?? '').includes('multipart/form-data')) {
      const { chunks: parts, contentType, byteLength } = encodeMultipartChunks(envelope)
      res.writeHead(200, { 'content-type': contentType, 'content-length': byteLength })
      for (const part of parts) res.write(part)
      return res.end()
    }
    const text = serializeJson(envelope)
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
    res.end(text)
  })
})
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`)
})
process.on('SIGTERM', () => server.close(() => process.exit(0)))
