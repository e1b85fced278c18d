import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { decodeMultipart, encodeMultipart } from '@comfy-remote/protocol'
import { describe, expect, it } from 'vitest'
import { REPO_DIR } from './helpers.js'

// The generated app's comfy_wire.py and @comfy-remote/protocol must read each other's multipart bodies.
const WIRE_DIR = join(REPO_DIR, 'templates', 'modal')
const bytes = new Uint8Array(5000).map((_, i) => (i * 7) % 256)
const message = {
  status: 'completed',
  outputs: {
    image: { type: 'IMAGE', encoding: 'npy', data: bytes },
    label: { type: 'STRING', encoding: 'json', data: 'a\r\n--x' },
  },
}

function python(script: string, input: Uint8Array): Buffer {
  return execFileSync(
    'python3',
    ['-c', `import sys; sys.path.insert(0, ${JSON.stringify(WIRE_DIR)})\n${script}`],
    { input, timeout: 30_000 },
  )
}

describe('multipart interop with @comfy-remote/protocol', () => {
  it('protocol encodes, comfy_wire decodes', () => {
    const { body, contentType } = encodeMultipart(message)
    const script = [
      'import comfy_wire, json, hashlib',
      `m = comfy_wire.decode_multipart(sys.stdin.buffer.read(), ${JSON.stringify(contentType)})`,
      'img = m["outputs"]["image"]',
      'print(json.dumps({"len": len(img["data"]), "sha": hashlib.sha256(img["data"]).hexdigest(), "label": m["outputs"]["label"]}))',
    ].join('\n')
    const out = JSON.parse(python(script, body).toString())
    expect(out).toEqual({
      len: bytes.length,
      sha: createHash('sha256').update(bytes).digest('hex'),
      label: message.outputs.label,
    })
  })

  it('comfy_wire encodes, protocol decodes', () => {
    const script = [
      'import comfy_wire, base64, json',
      'raw = sys.stdin.buffer.read()',
      'body, ctype = comfy_wire.encode_multipart({"status": "completed", "outputs": {"image": {"type": "IMAGE", "encoding": "npy", "data": base64.b64encode(raw).decode()}}})',
      'sys.stdout.buffer.write(ctype.encode() + b"\\n" + body)',
    ].join('\n')
    const out = python(script, bytes)
    const nl = out.indexOf(10)
    const decoded = decodeMultipart(
      new Uint8Array(out.subarray(nl + 1)),
      out.subarray(0, nl).toString(),
    ) as typeof message
    expect(Array.from(decoded.outputs.image.data as Uint8Array)).toEqual(Array.from(bytes))
  })
})
