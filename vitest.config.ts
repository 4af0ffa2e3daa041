import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // A missing or different golden fails on every machine, CI or not; only
    // `vitest -u` writes goldens (vitest's default writes missing ones
    // silently when CI is unset, so a lost golden would pass).
    update: 'none',
  },
})
