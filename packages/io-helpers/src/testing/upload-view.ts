import type { ServerResponse } from 'node:http'
import { posix } from 'node:path'
import type { FileStore } from './files.js'
import type { RecordedRequest } from './http-util.js'
import { baseHeaders, sendEmpty, sendJson, sendText } from './http-util.js'

/*
 * POST /upload/image and GET /view as ComfyUI's server.py has them (0.3.64 at 637221995f74 and 0.26.0
 * at f6c162ddcfbd are identical for what is modelled here; 0.26's asset registration only runs with
 * --enable-assets):
 * - upload: `type` absent -> input; input|temp|output accepted; anything else is an UnboundLocalError
 *   (500). subfolder is `normpath`ed and joined; a path leaving the folder is 400. `overwrite` is "true"
 *   or "1" (exactly); otherwise an existing name with identical bytes (hash) is kept without writing,
 *   different bytes become "name (1).ext", "name (2).ext", ... The answer echoes the subfolder as sent.
 * - view: no `filename` -> 404; "name [output]" style annotations pick the folder; an empty name is
 *   400; a name starting with "/" or containing ".." is 400; `type` (default output) other than
 *   input|temp|output is 400; a subfolder leaving the folder is 403; the basename is served; no such
 *   file is 404. Without preview/channel=rgb|a the file is sent as is (aiohttp FileResponse: Range
 *   support) with the Content-Type Python's mimetypes guesses (application/octet-stream when none;
 *   html/js/css forced to octet-stream) and `Content-Disposition: filename="<name>"`.
 */

const ROOTS: Record<string, string> = { input: '/input', temp: '/temp', output: '/output' }

/** Python's `mimetypes.guess_type` for the extensions workflows produce (Debian's /etc/mime.types adds flac). */
const MIME: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  gif: 'image/gif',
  mp4: 'video/mp4',
  webm: 'video/webm',
  mov: 'video/quicktime',
  mkv: 'video/x-matroska',
  avi: 'video/x-msvideo',
  wav: 'audio/x-wav',
  mp3: 'audio/mpeg',
  flac: 'audio/flac',
  ogg: 'audio/ogg',
  json: 'application/json',
  txt: 'text/plain',
  html: 'text/html',
  htm: 'text/html',
  js: 'text/javascript',
  css: 'text/css',
  svg: 'image/svg+xml',
}
const FORCED_DOWNLOAD = new Set([
  'text/html',
  'text/html-sandboxed',
  'application/xhtml+xml',
  'text/javascript',
  'text/css',
])

export function viewContentType(name: string): string {
  const dot = name.lastIndexOf('.')
  const type = dot < 0 ? undefined : MIME[name.slice(dot + 1).toLowerCase()]
  return !type || FORCED_DOWNLOAD.has(type) ? 'application/octet-stream' : type
}

/** Python's `os.path.join(a, b)`: an absolute `b` replaces `a`. */
function pyJoin(a: string, b: string): string {
  return b.startsWith('/') ? posix.normalize(b) : posix.join(a, b)
}

/** `os.path.commonpath((root, path)) == root` on normalised absolute paths. */
function inside(root: string, path: string): boolean {
  return path === root || path.startsWith(`${root}/`)
}

const SERVER_TROUBLE = '500 Internal Server Error\n\nServer got itself in trouble'

export async function uploadImage(
  files: FileStore,
  req: RecordedRequest,
  res: ServerResponse,
): Promise<void> {
  let form: FormData
  try {
    form = await new Response(new Uint8Array(req.rawBody), {
      headers: { 'content-type': String(req.headers['content-type'] ?? '') },
    }).formData()
  } catch {
    return sendText(res, 400, '400: Bad Request')
  }
  const rawType = form.get('type')
  const type = rawType === null ? 'input' : String(rawType)
  if (!ROOTS[type]) return sendText(res, 500, SERVER_TROUBLE) // UnboundLocalError in get_dir_by_type
  const image = form.get('image')
  if (!image || typeof image === 'string') return sendEmpty(res, 400)
  if (!image.name) return sendEmpty(res, 400)
  const subfolder = form.get('subfolder') === null ? '' : String(form.get('subfolder'))
  const root = ROOTS[type]!
  const folder = pyJoin(root, posix.normalize(subfolder || '.'))
  const target = pyJoin(folder, image.name)
  if (!inside(root, posix.resolve(target))) return sendEmpty(res, 400)
  const relFolder = posix.relative(root, posix.dirname(posix.resolve(target)))
  const overwrite = ['true', '1'].includes(String(form.get('overwrite') ?? ''))
  const bytes = new Uint8Array(await image.arrayBuffer())
  const base = posix.basename(target)
  const name = files.upload(type, relFolder, base, bytes, overwrite)
  sendJson(res, 200, {
    name: posix.join(posix.dirname(image.name), name).replace(/^\.\//, ''),
    subfolder,
    type,
  })
}

function parseRange(header: string | undefined, size: number): [number, number] | 'bad' | undefined {
  if (!header) return undefined
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim())
  if (!m || (m[1] === '' && m[2] === '')) return 'bad'
  let start: number
  let end: number
  if (m[1] === '') {
    start = Math.max(0, size - Number(m[2]))
    end = size - 1
  } else {
    start = Number(m[1])
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1)
  }
  return start > end || start >= size ? 'bad' : [start, end]
}

export function viewFile(files: FileStore, req: RecordedRequest, res: ServerResponse) {
  const query = req.query
  if (!('filename' in query)) return sendEmpty(res, 404)
  let name = query.filename ?? ''
  let type = query.type ?? 'output'
  for (const t of ['output', 'input', 'temp']) {
    if (name.endsWith(`[${t}]`)) {
      name = name.slice(0, -(t.length + 3))
      type = t
      break
    }
  }
  if (name === '') return sendEmpty(res, 400)
  if (name.startsWith('/') || name.includes('..')) return sendEmpty(res, 400)
  const root = ROOTS[type]
  if (!root) return sendEmpty(res, 400)
  let folder = root
  if ('subfolder' in query) {
    folder = posix.resolve(pyJoin(root, query.subfolder ?? ''))
    if (!inside(root, folder)) return sendEmpty(res, 403)
  }
  const base = posix.basename(name)
  const file = files.get(type, posix.relative(root, folder), base)
  if (!file) return sendEmpty(res, 404)
  const size = file.bytes.byteLength
  const headers: Record<string, string> = {
    'Content-Disposition': `filename="${base}"`,
    'Content-Type': viewContentType(base),
    Etag: `"${file.mtime.getTime().toString(16)}-${size.toString(16)}"`,
    'Last-Modified': file.mtime.toUTCString(),
    'Accept-Ranges': 'bytes',
  }
  const range = parseRange(typeof req.headers.range === 'string' ? req.headers.range : undefined, size)
  if (range === 'bad') {
    res.writeHead(416, { ...baseHeaders(), 'Content-Range': `bytes */${size}`, 'Content-Length': '0' })
    res.end()
    return
  }
  const [start, end] = range ?? [0, size - 1]
  const body = file.bytes.subarray(start, end + 1)
  res.writeHead(range ? 206 : 200, {
    ...headers,
    ...(range ? { 'Content-Range': `bytes ${start}-${end}/${size}` } : {}),
    'Content-Length': String(body.byteLength),
    ...baseHeaders(),
  })
  res.end(req.method === 'HEAD' ? undefined : body)
}
