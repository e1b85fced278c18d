/** The in-process inject/pop registry of the Remote Input/Output nodes (mirrors the Python node pack). */
export interface PayloadRegistry {
  /** Store the payload (a `{key: value}` map) a Remote Input with this node id reads. */
  injectPayload(nodeId: string | number, payload: Record<string, unknown>): void
  /** Return and forget the payload injected for this node id; undefined when none. */
  popPayload(nodeId: string | number): Record<string, unknown> | undefined
  /** What a Remote Input yields: `payload[key]` of its injected payload, else `fallback`. Does not pop. */
  resolveInput(nodeId: string | number, key: string, fallback?: unknown): unknown
  /** Add `key: value` to the node's bucket (a second key merges into the bucket). */
  registerOutput(nodeId: string | number, key: string, value: unknown): void
  /** Return and forget the node's whole bucket; undefined when nothing was stored. */
  popOutput(nodeId: string | number): Record<string, unknown> | undefined
}

export function createPayloadRegistry(): PayloadRegistry {
  const payloads = new Map<string, Record<string, unknown>>()
  const outputs = new Map<string, Record<string, unknown>>()
  return {
    injectPayload(nodeId, payload) {
      payloads.set(String(nodeId), payload)
    },
    popPayload(nodeId) {
      const id = String(nodeId)
      const payload = payloads.get(id)
      payloads.delete(id)
      return payload
    },
    resolveInput(nodeId, key, fallback) {
      const payload = payloads.get(String(nodeId))
      return payload && Object.hasOwn(payload, key) ? payload[key] : fallback
    },
    registerOutput(nodeId, key, value) {
      const id = String(nodeId)
      outputs.set(id, { ...(outputs.get(id) ?? {}), [key]: value })
    },
    popOutput(nodeId) {
      const id = String(nodeId)
      const bucket = outputs.get(id)
      outputs.delete(id)
      return bucket
    },
  }
}
