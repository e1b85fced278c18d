import { describe, expect, it } from 'vitest'
import { duplicateWarningFor, findDuplicateKeys } from './duplicates.js'

const input = (id: number, key: string, mode = 0) => ({ id, type: 'ComfyRemoteInput', key, mode })
const output = (id: number, key: string) => ({ id, type: 'ComfyRemoteOutput', key })

describe('findDuplicateKeys', () => {
  it('groups inputs and outputs separately', () => {
    const d = findDuplicateKeys([
      input(1, 'image'),
      input(2, 'image'),
      output(3, 'image'),
      output(4, 'result'),
      input(5, 'seed'),
    ])
    expect(d).toEqual([{ kind: 'input', key: 'image', nodeIds: [1, 2] }])
  })

  it('compares trimmed keys, flags empty keys, ignores muted and bypassed nodes and other classes', () => {
    const d = findDuplicateKeys([
      output(1, 'a'),
      output(2, ' a '),
      input(3, ''),
      input(4, 'x', 2),
      input(5, 'x'),
      input(6, 'x', 4),
      { id: 7, type: 'KSampler', key: 'a' },
    ])
    expect(d).toEqual([
      { kind: 'output', key: 'a', nodeIds: [1, 2] },
      { kind: 'input', key: '', nodeIds: [3] },
    ])
  })

  it('gives each node a message naming the others', () => {
    const nodes = [output(1, 'a'), output(2, 'a'), output(9, 'a'), input(3, ''), input(4, 'ok')]
    const d = findDuplicateKeys(nodes)
    expect(duplicateWarningFor(nodes[0]!, d)).toBe(
      'Remote Output key "a" is also used by #2, #9: rename one of them.',
    )
    expect(duplicateWarningFor(nodes[3]!, d)).toMatch(/Remote Input key is empty/)
    expect(duplicateWarningFor(nodes[4]!, d)).toBeNull()
  })
})
