import { describe, expect, it } from 'vitest'
import { agPosition, slotLabel, tidyLegacyAutogrow, visiblePositions } from './legacy-autogrow.js'
import type { NodeLike, SlotLike } from './node-types.js'

const AG = (k: number) => `input_${k}_$remote_inputs_ag$`

describe('legacy autogrow slots', () => {
  it('reads positions from AutogrowDynamic names only', () => {
    expect(agPosition(AG(3))).toBe(3)
    expect(agPosition('remote_inputs.input0')).toBeNull()
    expect(agPosition('input_3')).toBeNull()
  })

  it.each([
    [[], 0, [1]],
    [[{ position: 1, linked: true }], 0, [1, 2]],
    [
      [
        { position: 1, linked: true },
        { position: 3, linked: true },
      ],
      0,
      [1, 2, 3],
    ],
    [[], 3, [1, 2, 3]],
    [[1, 2, 3].map((position) => ({ position, linked: true })), 3, [1, 2, 3, 4]],
    [[1, 2, 3, 4, 5, 6, 7, 8].map((position) => ({ position, linked: true })), 0, [1, 2, 3, 4, 5, 6, 7, 8]],
  ])('visiblePositions(%j, named %i) = %j', (slots, named, out) =>
    expect(visiblePositions(slots, named)).toEqual(out),
  )

  it('keeps endpoint names as labels, else "input k"', () => {
    expect(slotLabel({ name: AG(2), type: '*' }, 2)).toBe('input 2')
    expect(slotLabel({ name: AG(2), type: '*', label: AG(2) }, 2)).toBe('input 2')
    expect(slotLabel({ name: AG(2), type: 'INT', label: 'seed (optional)' }, 2)).toBe('seed (optional)')
  })

  it('removes free slots, re-adds one in order and keeps links pointing at their slots', () => {
    const links = new Map([[7, { target_slot: 3 }]])
    const inputs: SlotLike[] = [
      { name: 'url', type: 'STRING' },
      ...[1, 2, 3, 4].map((k) => ({ name: AG(k), type: '*', link: null as number | null })),
    ]
    ;(inputs[3] as SlotLike).link = 7 // position 3 connected
    const node = {
      id: 1,
      size: [200, 100],
      inputs,
      graph: { _links: links },
      addInput(name: string, type: string) {
        inputs.push({ name, type, link: null })
      },
      removeInput(slot: number) {
        inputs.splice(slot, 1)
        for (let i = slot; i < inputs.length; i++) {
          const link = links.get(inputs[i]?.link as number)
          if (link) link.target_slot--
        }
      },
    }
    expect(tidyLegacyAutogrow(node)).toBe(true)
    expect(node.inputs?.map((s) => [s.name, s.label ?? null])).toEqual([
      ['url', null],
      [AG(1), 'input 1'],
      [AG(3), 'input 3'],
    ])
    expect(links.get(7)?.target_slot).toBe(2)
    // connecting position 1 as well: position 2 becomes the free slot, placed between 1 and 3
    ;(node.inputs?.[1] as SlotLike).link = 8
    links.set(8, { target_slot: 1 })
    tidyLegacyAutogrow(node)
    expect(node.inputs?.map((s) => s.name)).toEqual(['url', AG(1), AG(2), AG(3)])
    expect([links.get(8)?.target_slot, links.get(7)?.target_slot]).toEqual([1, 3])
  })

  it('leaves native autogrow slots alone', () => {
    const node: NodeLike = {
      id: 1,
      size: [1, 1],
      inputs: [{ name: 'remote_inputs.input0', type: '*' }],
      addInput() {},
    }
    expect(tidyLegacyAutogrow(node)).toBe(false)
    expect(node.inputs).toEqual([{ name: 'remote_inputs.input0', type: '*' }])
  })

  it('only labels old slots next to native autogrow ones (0.3.6x workflow on a current frontend)', () => {
    const removed: number[] = []
    const node = {
      id: 1,
      size: [1, 1] as [number, number],
      inputs: [
        { name: 'remote_inputs.input0', type: '*', link: null },
        { name: AG(1), type: '*', link: 5 },
        { name: AG(2), type: '*', link: null },
      ] as SlotLike[],
      addInput() {},
      removeInput(slot: number) {
        removed.push(slot)
      },
    }
    expect(tidyLegacyAutogrow(node)).toBe(true)
    expect(removed).toEqual([])
    expect(node.inputs.map((s) => s.label ?? s.name)).toEqual(['remote_inputs.input0', 'input 1', 'input 2'])
  })
})
