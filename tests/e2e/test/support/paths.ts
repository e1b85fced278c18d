import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** Repository root (tests/e2e/test/support -> ../../../..). */
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..')

export const examplesDir = join(repoRoot, 'examples')

export const exampleNames = ['image-invert', 'typed-inputs', 'multi-output'] as const
export type ExampleName = (typeof exampleNames)[number]

export const fixturesDir = join(repoRoot, 'packages', 'io-helpers', 'fixtures')

export function readJson<T = unknown>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T
}

export function exampleFile(name: ExampleName, file: string): string {
  return join(examplesDir, name, file)
}

export function readExample<T = unknown>(name: ExampleName, file: string): T {
  return readJson<T>(exampleFile(name, file))
}
