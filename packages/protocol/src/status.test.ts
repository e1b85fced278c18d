import { describe, expect, it } from 'vitest'
import { normalizeProgress, normalizeStatus } from './index.js'

describe('normalizeStatus', () => {
  it.each([
    ['pending', 'pending'],
    ['queued', 'pending'],
    ['QUEUED', 'pending'],
    ['running', 'running'],
    ['processing', 'running'],
    ['in_progress', 'running'],
    ['In_Progress', 'running'],
    ['completed', 'completed'],
    ['complete', 'completed'],
    ['done', 'completed'],
    ['Success', 'completed'],
    ['failed', 'failed'],
    ['error', 'failed'],
    ['ERROR', 'failed'],
    ['cancelled', 'cancelled'],
    ['canceled', 'cancelled'],
    ['aborted', 'cancelled'],
    [' done ', 'completed'],
  ])('%j -> %s', (raw, status) => expect(normalizeStatus(raw)).toBe(status))

  it.each([['finished?'], [''], ['toString'], ['__proto__'], [null], [undefined], [1], [{}], [['done']]])(
    '%j -> undefined',
    (raw) => expect(normalizeStatus(raw)).toBeUndefined(),
  )
})

describe('normalizeProgress', () => {
  it.each([
    ['value of max', { value: 3, max: 10 }, { value: 3, max: 10 }],
    ['value of total', { value: 2, total: 4 }, { value: 2, max: 4 }],
    ['value of goal', { value: 5, goal: 20 }, { value: 5, max: 20 }],
    ['max wins over total', { value: 1, max: 2, total: 100 }, { value: 1, max: 2 }],
    ['zero max falls through to total', { value: 1, max: 0, total: 4 }, { value: 1, max: 4 }],
    ['numeric strings', { value: '3', max: '6' }, { value: 3, max: 6 }],
    ['value above max is clamped', { value: 12, max: 10 }, { value: 10, max: 10 }],
    ['negative value is clamped', { value: -1, max: 10 }, { value: 0, max: 10 }],
    ['zero max falls back to percent', { value: 1, max: 0, percent: 40 }, { value: 40, max: 100 }],
    ['percent <= 1 is a fraction', { percent: 0.25 }, { value: 0.25, max: 1 }],
    ['percent exactly 1 is a fraction', { percent: 1 }, { value: 1, max: 1 }],
    ['percent > 1 is out of 100', { percent: 42 }, { value: 42, max: 100 }],
    ['percentage', { percentage: 80 }, { value: 80, max: 100 }],
    ['percent over 100 clamps', { percent: 250 }, { value: 100, max: 100 }],
    ['percent wins over ratio', { percent: 50, ratio: 0.1 }, { value: 50, max: 100 }],
    ['ratio is a fraction', { ratio: 0.5 }, { value: 0.5, max: 1 }],
    ['ratio above 1 clamps', { ratio: 3 }, { value: 1, max: 1 }],
    ['value without max uses ratio', { value: 3, ratio: 0.3 }, { value: 0.3, max: 1 }],
    ['bare fraction', 0.5, { value: 0.5, max: 1 }],
    ['bare 0', 0, { value: 0, max: 1 }],
    ['bare 1', 1, { value: 1, max: 1 }],
    ['bare percent', 42, { value: 42, max: 100 }],
    ['bare over 100 clamps', 150, { value: 100, max: 100 }],
    ['bare negative clamps to 0', -5, { value: 0, max: 100 }],
    ['bare numeric string', '0.75', { value: 0.75, max: 1 }],
  ])('%s', (_name, raw, expected) => expect(normalizeProgress(raw)).toEqual(expected))

  it.each([
    ['undefined', undefined],
    ['null', null],
    ['junk string', 'half'],
    ['empty string', ''],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['boolean', true],
    ['array', [1, 2]],
    ['empty object', {}],
    ['value without any max', { value: 3 }],
    ['value with zero max only', { value: 3, max: 0 }],
    ['negative max', { value: 3, max: -10 }],
    ['infinite value', { value: Number.POSITIVE_INFINITY, max: 10 }],
    ['NaN percent', { percent: Number.NaN }],
    ['message only', { message: 'sampling' }],
  ])('%s -> undefined', (_name, raw) => expect(normalizeProgress(raw)).toBeUndefined())
})
