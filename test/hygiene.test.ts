import { describe, expect, test } from 'vitest'
import config from '../vitest.config.js'

describe('test hygiene', () => {
  test('goldens are never written unasked: vitest runs with update "none" unless -u is given', () => {
    // vitest's default ("new" when CI is unset) silently writes a missing
    // golden and passes; "none" makes it fail on every machine.
    expect(config.test?.update).toBe('none')
  })
})
