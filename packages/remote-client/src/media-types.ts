/** File extensions of the media types comfy-remote values carry (`file` encoding), both ways. */
const BY_MIME: Record<string, string> = {
  'video/mp4': 'mp4',
  'video/webm': 'webm',
  'video/quicktime': 'mov',
  'video/x-matroska': 'mkv',
  'video/x-msvideo': 'avi',
  'image/gif': 'gif',
  'image/webp': 'webp',
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'audio/wav': 'wav',
  'audio/x-wav': 'wav',
  'audio/wave': 'wav',
  'audio/flac': 'flac',
  'audio/x-flac': 'flac',
  'audio/mpeg': 'mp3',
  'audio/ogg': 'ogg',
  'audio/opus': 'opus',
  'audio/aac': 'aac',
  'audio/mp4': 'm4a',
  'model/gltf-binary': 'glb',
  'model/gltf+json': 'gltf',
  'model/obj': 'obj',
  'application/json': 'json',
  'application/octet-stream': 'bin',
  'text/plain': 'txt',
}

const BY_EXT: Record<string, string> = {
  mp4: 'video/mp4',
  m4v: 'video/mp4',
  webm: 'video/webm',
  mov: 'video/quicktime',
  mkv: 'video/x-matroska',
  avi: 'video/x-msvideo',
  gif: 'image/gif',
  webp: 'image/webp',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  wav: 'audio/wav',
  flac: 'audio/flac',
  mp3: 'audio/mpeg',
  ogg: 'audio/ogg',
  opus: 'audio/opus',
  aac: 'audio/aac',
  m4a: 'audio/mp4',
  glb: 'model/gltf-binary',
  gltf: 'model/gltf+json',
  obj: 'model/obj',
}

/** A safe extension (letters and digits, at most 8) of a file name, or undefined. */
function extOfName(name: unknown): string | undefined {
  if (typeof name !== 'string') return undefined
  const m = /\.([A-Za-z0-9]{1,8})$/.exec(name)
  return m?.[1]?.toLowerCase()
}

/**
 * The file extension (without dot) for a binary value's bytes: npy / png by encoding; for `file`, from
 * its `mime` (parameters ignored), else its `filename`'s extension, else `bin`.
 */
export function extensionFor(value: { encoding?: unknown; mime?: unknown; filename?: unknown }): string {
  if (value.encoding === 'npy') return 'npy'
  if (value.encoding === 'png') return 'png'
  const mime = typeof value.mime === 'string' ? value.mime.split(';')[0]!.trim().toLowerCase() : ''
  return BY_MIME[mime] ?? extOfName(value.filename) ?? 'bin'
}

/** The media type of a file name's extension (video, audio, 3D, images other than png), or undefined. */
export function mimeForFileName(name: string): string | undefined {
  const ext = extOfName(name)
  return ext === undefined ? undefined : BY_EXT[ext]
}

/** The ComfyUI type a media type suggests: VIDEO, AUDIO, else FILE. */
export function typeForMime(mime: string | undefined): string {
  if (mime?.startsWith('video/')) return 'VIDEO'
  if (mime?.startsWith('audio/')) return 'AUDIO'
  return 'FILE'
}
