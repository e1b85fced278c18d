import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { ApiPrompt, ObjectInfo } from '../types.js'

/** Absolute path of the recorded fixtures folder of a ComfyUI version shipped with this package. */
export function fixturesDir(version: '0.3.64' | '0.26.0' = '0.3.64'): string {
  // Same depth from src/testing and dist/testing.
  return fileURLToPath(new URL(`../../fixtures/comfyui-${version}/`, import.meta.url))
}

/** Read a recorded fixture file as text (path relative to the version's folder). */
export function readFixtureText(relative: string, version: '0.3.64' | '0.26.0' = '0.3.64'): string {
  return readFileSync(`${fixturesDir(version)}${relative}`, 'utf8')
}

export function readFixtureJson<T = unknown>(relative: string, version: '0.3.64' | '0.26.0' = '0.3.64'): T {
  return JSON.parse(readFixtureText(relative, version)) as T
}

export function readFixtureBytes(relative: string): Uint8Array {
  return readFileSync(`${fixturesDir()}${relative}`)
}

/** One line of a recorded `ws.jsonl`. */
export type RecordedWsLine =
  | { type: string; data: Record<string, unknown> }
  | ({ binary: true } & Record<string, unknown>)

export function readWsTranscript(relative: string): RecordedWsLine[] {
  return readFixtureText(relative)
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as RecordedWsLine)
}

/** A recorded POST exchange (`*-response.json`, `validation-error/*.json`). */
export interface RecordedExchange {
  request: { method: string; path: string; headers?: Record<string, string>; body?: unknown }
  response: {
    status: number
    reason: string
    headers: Array<[string, string]>
    body_length?: number
    body: unknown
  }
}

let objectInfoCache: ObjectInfo | undefined

/** The recorded `/object_info` of ComfyUI 0.3.64 (383 core nodes; without the comfy-remote nodes). */
export function recordedObjectInfo(): ObjectInfo {
  objectInfoCache ??= readFixtureJson<ObjectInfo>('object_info.json')
  return objectInfoCache
}

/** A recorded prompt (API format), e.g. `success/prompt.json`. */
export function recordedPrompt(relative: string): ApiPrompt {
  return readFixtureJson<ApiPrompt>(relative)
}
