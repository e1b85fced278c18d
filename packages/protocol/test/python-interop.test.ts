import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import {
  decodeMultipart,
  decodeValue,
  encodeMultipart,
  encodeValue,
  type NdArray,
  parseEnvelope,
  serializeJson,
} from '../src/index.js'

const python = process.env.PYTHON ?? 'python3'
const hasNumpy = spawnSync(python, ['-c', 'import numpy'], { stdio: 'ignore', timeout: 20_000 }).status === 0
const hasUrllib3 =
  hasNumpy && spawnSync(python, ['-c', 'import urllib3'], { stdio: 'ignore', timeout: 20_000 }).status === 0
const dir = mkdtempSync(join(tmpdir(), 'protocol-py-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

// Reads our multipart body with the standard library's MIME parser and our npy with numpy.
const SCRIPT = `
import base64, io, json, sys
from email.parser import BytesParser
import numpy as np
body = open(sys.argv[1], 'rb').read()
ctype = sys.argv[2]
msg = BytesParser().parsebytes(b'Content-Type: ' + ctype.encode() + b'\\r\\n\\r\\n' + body)
parts = {p.get_param('name', header='content-disposition'): p.get_payload(decode=True) for p in msg.get_payload()}
message = json.loads(parts['json'])
arr = np.load(io.BytesIO(parts[message['inputs']['image']['data']['part']]))
env = json.loads(open(sys.argv[3]).read())
arr2 = np.load(io.BytesIO(base64.b64decode(env['inputs']['image']['data'])))
print(json.dumps({'dtype': str(arr.dtype), 'shape': list(arr.shape), 'values': arr.ravel().tolist(), 'same': bool(np.array_equal(arr, arr2)), 'count': message['inputs']['count']['data']}))
`

describe.skipIf(!hasNumpy)('Python reads what TypeScript writes', () => {
  it.each(['float32', 'int64', 'bool', 'float16'])('%s npy in a multipart body and a JSON body', (dtype) => {
    const values = [0, 1, 2, 3, 4, 5]
    const data =
      dtype === 'int64'
        ? BigInt64Array.from(values.map(BigInt))
        : dtype === 'float32'
          ? Float32Array.from(values)
          : Uint8Array.from(values.map((v) => v % 2))
    const array: NdArray =
      dtype === 'float16'
        ? { dtype, shape: [2, 3], data: Uint16Array.from([0, 0x3c00, 0x4000, 0x4200, 0x4400, 0x4500]) }
        : { dtype, shape: [2, 3], data }
    const message = { inputs: { image: encodeValue(array, { type: 'IMAGE' }), count: encodeValue(3) } }
    const { body, contentType } = encodeMultipart(message)
    writeFileSync(join(dir, 'body.bin'), body)
    writeFileSync(join(dir, 'body.json'), serializeJson(message))
    const out = JSON.parse(
      execFileSync(python, ['-c', SCRIPT, join(dir, 'body.bin'), contentType, join(dir, 'body.json')], {
        encoding: 'utf8',
        timeout: 30_000,
      }),
    )
    expect(out.dtype).toBe(dtype)
    expect(out.shape).toEqual([2, 3])
    expect(out.same).toBe(true)
    expect(out.count).toBe(3)
    const expected = dtype === 'bool' ? values.map((v) => v % 2 === 1) : values
    expect(out.values).toEqual(expected)
  })
})

// A multipart envelope built by a common Python library (urllib3), as a Python worker might.
const WRITE = `
import io, json, sys
import numpy as np
from urllib3 import encode_multipart_formdata
arr = np.arange(12, dtype=np.float32).reshape(1, 2, 2, 3) / 11
buf = io.BytesIO(); np.save(buf, arr)
env = {'status': 'completed', 'job_id': 'py', 'result': {'type': 'IMAGE', 'encoding': 'npy', 'data': {'part': 'img'}}}
body, ctype = encode_multipart_formdata([
  ('json', ('json', json.dumps(env), 'application/json')),
  ('img', ('img.npy', buf.getvalue(), 'application/octet-stream')),
])
open(sys.argv[1], 'wb').write(body)
print(ctype)
`

describe.skipIf(!hasUrllib3)('TypeScript reads what Python writes', () => {
  it('a multipart envelope from urllib3.encode_multipart_formdata', () => {
    const file = join(dir, 'py-body.bin')
    const contentType = execFileSync(python, ['-c', WRITE, file], {
      encoding: 'utf8',
      timeout: 30_000,
    }).trim()
    const env = parseEnvelope(decodeMultipart(new Uint8Array(readFileSync(file)), contentType))
    expect(env.status).toBe('completed')
    const image = decodeValue(env.result) as NdArray
    expect(image.shape).toEqual([1, 2, 2, 3])
    expect(Array.from(image.data as Float32Array)).toEqual(
      Array.from({ length: 12 }, (_, i) => Math.fround(Math.fround(i) / 11)),
    )
  })
})
