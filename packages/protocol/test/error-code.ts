import { expect } from 'vitest'
import { isProtocolError } from '../src/index.js'

/** The `code` of the ProtocolError `fn` throws; fails the test when it throws anything else or nothing. */
export function codeOf(fn: () => unknown): string {
  try {
    fn()
  } catch (error) {
    expect(isProtocolError(error)).toBe(true)
    return (error as { code: string }).code
  }
  throw new Error('expected a ProtocolError')
}
