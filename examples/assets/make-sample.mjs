#!/usr/bin/env node
// Writes examples/assets/sample.png: a 64x64 RGB gradient (red grows left to right, green top to
// bottom, blue constant). No dependencies: PNG chunks built with node:zlib. Run:
//   node examples/assets/make-sample.mjs
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { crc32, deflateSync } from 'node:zlib'

const size = 64
const raw = Buffer.alloc(size * (1 + size * 3))
for (let y = 0; y < size; y++) {
  const row = y * (1 + size * 3)
  raw[row] = 0 // filter: none
  for (let x = 0; x < size; x++) {
    const at = row + 1 + x * 3
    raw[at] = Math.round((x / (size - 1)) * 255)
    raw[at + 1] = Math.round((y / (size - 1)) * 255)
    raw[at + 2] = 128
  }
}

function chunk(type, data) {
  const length = Buffer.alloc(4)
  length.writeUInt32BE(data.length)
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data])
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(body))
  return Buffer.concat([length, body, crc])
}

const header = Buffer.alloc(13)
header.writeUInt32BE(size, 0)
header.writeUInt32BE(size, 4)
header[8] = 8 // bit depth
header[9] = 2 // colour type: RGB
const png = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  chunk('IHDR', header),
  chunk('IDAT', deflateSync(raw, { level: 9 })),
  chunk('IEND', Buffer.alloc(0)),
])
const out = fileURLToPath(new URL('sample.png', import.meta.url))
writeFileSync(out, png)
console.log(`wrote ${out} (${png.length} bytes)`)
