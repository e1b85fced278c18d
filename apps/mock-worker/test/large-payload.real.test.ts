// A 256 MiB image through the mock worker CLI (a real process and port): the request streams into
// a spool file and the answer streams back from it, so the worker's peak RSS stays far below the
// payload (it was 23x the payload when bodies were held in memory). Linux only (/proc).
import { type ChildProcess, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { FIXTURES } from './helpers.js'

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'cli.js')
const MiB = 1024 * 1024
const PAYLOAD = 256 * MiB
const children: ChildProcess[] = []
const spoolBase = mkdtempSync(join(tmpdir(), 'cr-large-'))

afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL')
  rmSync(spoolBase, { recursive: true, force: true })
})

function startCli(args: string[]): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  children.push(child)
  let seen = ''
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      seen += chunk.toString('utf8')
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(seen)
      if (match?.[1]) resolve({ child, url: match[1] })
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    child.once('exit', (code) => reject(new Error(`exited (${code}):\n${seen}`)))
  })
}

/** Peak resident set (VmHWM) of a process, in bytes. */
function peakRss(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return Number(match?.[1]) * 1024
}

/** An npy float32 payload of `size` bytes (header included), produced in 1 MiB chunks. */
function* npyChunks(size: number): Generator<Buffer> {
  const dataBytes = size - 128
  const header = `{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, ${dataBytes / 12}, 3), }`
  const head = Buffer.alloc(128, 0x20)
  head.write('\x93NUMPY\x01\x00', 0, 'latin1')
  head.writeUInt16LE(118, 8)
  head.write(header, 10, 'latin1')
  head[127] = 0x0a
  yield head
  const block = Buffer.alloc(MiB)
  for (let sent = 0; sent < dataBytes; sent += MiB) {
    block.fill((sent / MiB) % 256)
    yield block.subarray(0, Math.min(MiB, dataBytes - sent))
  }
}

describe.skipIf(!existsSync('/proc/self/status'))('a 256 MiB image through the mock worker', () => {
  it('round-trips bit-exact with the worker peak RSS far below the payload', async () => {
    const { child, url } = await startCli([
      '--workflow',
      join(FIXTURES, 'echo-prompt.json'),
      '--port',
      '0',
      '--steps',
      '1',
      '--step-ms',
      '0',
      '--spool-dir',
      spoolBase,
      '--log-level',
      'warn',
    ])
    const boundary = 'large-payload-test-boundary'
    const json = JSON.stringify({
      inputs: { image: { type: 'IMAGE', encoding: 'npy', data: { part: 'b0' } } },
    })
    const sent = createHash('sha256')
    const received = createHash('sha256')
    let receivedBytes = 0
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${url}/run?wait=120`, {
        method: 'POST',
        headers: {
          'content-type': `multipart/form-data; boundary=${boundary}`,
          accept: 'multipart/form-data',
        },
      })
      req.on('error', reject)
      req.on('response', (res) => {
        // find the b0 part of the answer and hash exactly its Content-Length bytes, streaming
        let head = Buffer.alloc(0)
        let remaining = -1
        res.on('data', (chunk: Buffer) => {
          let rest = chunk
          if (remaining < 0) {
            head = Buffer.concat([head, chunk])
            const at = head.indexOf('name="b0"')
            const end = at < 0 ? -1 : head.indexOf('\r\n\r\n', at)
            if (end < 0) return
            remaining = Number(/Content-Length: (\d+)/.exec(head.subarray(at, end).toString('latin1'))?.[1])
            rest = head.subarray(end + 4)
          }
          const take = rest.subarray(0, Math.max(0, remaining))
          received.update(take)
          receivedBytes += take.byteLength
          remaining -= take.byteLength
        })
        res.on('end', () => resolve(res.statusCode ?? 0))
        res.on('error', reject)
      })
      const write = async () => {
        req.write(
          `--${boundary}\r\nContent-Disposition: form-data; name="json"\r\nContent-Type: application/json\r\n\r\n${json}\r\n--${boundary}\r\nContent-Disposition: form-data; name="b0"; filename="b0"\r\nContent-Type: application/octet-stream\r\n\r\n`,
        )
        for (const chunk of npyChunks(PAYLOAD)) {
          sent.update(chunk)
          if (!req.write(chunk)) await new Promise((r) => req.once('drain', r))
        }
        req.end(`\r\n--${boundary}--\r\n`)
      }
      write().catch(reject)
    })
    expect(status).toBe(200)
    expect(receivedBytes).toBe(PAYLOAD)
    expect(received.digest('hex')).toBe(sent.digest('hex'))
    const peak = peakRss(child.pid as number)
    console.info(`worker peak RSS ${(peak / MiB).toFixed(0)} MiB for a ${PAYLOAD / MiB} MiB payload`)
    // Bodies held in memory peaked at many times the payload; streaming keeps the worker near its
    // idle footprint (~100 MiB for Node + Fastify + zod) whatever the payload.
    expect(peak).toBeLessThan(PAYLOAD * 0.75)
  }, 120_000)
})
