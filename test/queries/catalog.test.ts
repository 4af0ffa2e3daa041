import { describe, expect, test } from 'vitest'
import { loadCatalog, parseQuery } from '../../src/queries/catalog.js'
import { bindParams } from '../../src/queries/run.js'

describe('named queries', () => {
  const catalog = loadCatalog()
  test.each([...catalog.keys()])('%s has a valid header', (name) => {
    const q = catalog.get(name)!
    expect(q.description.length).toBeGreaterThan(10)
    expect(q.name).toBe(name)
  })
  test('the core queries exist', () => {
    for (const n of ['descendants', 'ancestors', 'tree', 'lifetimes', 'children']) expect(catalog.has(n)).toBe(true)
  })
})

describe('headers', () => {
  const sql = `-- @name q
-- @description Test query
-- @param pid integer The pid
-- @param depth integer = 3 Max depth
-- @param text text = null Optional
SELECT :pid, :depth, :text, ':notaparam' -- :nor_this
`
  test('params, defaults and binding', () => {
    const q = parseQuery(sql, 'q.sql', 'q')
    expect(q.params.map((p) => [p.name, p.type, 'default' in p ? p.default : 'required'])).toEqual([
      ['pid', 'integer', 'required'],
      ['depth', 'integer', 3],
      ['text', 'text', null],
    ])
    expect(bindParams(q, ['1442'])).toEqual({ pid: 1442, depth: 3, text: null })
    expect(bindParams(q, ['1442', '5'], { text: 'x' })).toEqual({ pid: 1442, depth: 5, text: 'x' })
  })
  test('errors', () => {
    const q = parseQuery(sql, 'q.sql', 'q')
    expect(() => bindParams(q, [])).toThrow(/needs parameter "pid"/)
    expect(() => bindParams(q, ['14x'])).toThrow(/must be an integer, got "14x"/)
    expect(() => bindParams(q, ['1', '2', '3', '4'])).toThrow(/takes 3 argument/)
    expect(() => bindParams(q, ['1'], { nope: '1' })).toThrow(/no parameter "nope"/)
    expect(() => parseQuery('-- @description d\nSELECT :undeclared', 'x.sql', 'x')).toThrow(/uses :undeclared/)
    expect(() => parseQuery('-- @description d\n-- @param a integer A\nSELECT 1', 'x.sql', 'x')).toThrow(/never uses :a/)
    expect(() => parseQuery('SELECT 1', 'x.sql', 'x')).toThrow(/no "-- @description"/)
  })
})

describe('usedParams', () => {
  test('parameters in code count; those in comments and string literals do not, whatever they contain', async () => {
    const { usedParams } = await import('../../src/queries/catalog.js')
    const sql = `SELECT ':a', '--' || :b, x::text -- :c 'it''s
      /* :d */ FROM t WHERE y = :e AND z = 'a -- :f'`
    expect([...usedParams(sql)].sort()).toEqual(['b', 'e'])
  })
})
