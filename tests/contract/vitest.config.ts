import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 90_000,
    // one target at a time: each file starts its own servers, and CI has 2 cores
    fileParallelism: false,
  },
})
