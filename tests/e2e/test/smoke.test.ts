import { expect, it } from 'vitest'

it('workspace packages resolve', async () => {
  const protocol = await import('@comfy-remote/protocol')
  expect(typeof protocol).toBe('object')
})
