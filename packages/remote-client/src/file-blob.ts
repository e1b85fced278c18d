/** Paths of the Blobs `openFileBlob` made (the Blob itself says nothing of its file). */
const paths = new WeakMap<Blob, string>()

/**
 * A file as a Blob (`fs.openAsBlob`) that remote-client sends with plain file reads: Node 20 reads a
 * file Blob's slices in small pieces and joins them, 3-4x slower than reading the file in 2 MiB
 * pieces (48 MiB: ~97 ms vs ~27 ms onto a loopback socket). Node only; like any file Blob it must not
 * change while it is sent.
 */
export async function openFileBlob(path: string): Promise<Blob> {
  const { openAsBlob } = await import('node:fs')
  const blob = await openAsBlob(path)
  paths.set(blob, path)
  return blob
}

/** The file behind a Blob from `openFileBlob`, else undefined. */
export function filePathOf(blob: Blob): string | undefined {
  return paths.get(blob)
}
