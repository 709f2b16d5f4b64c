// Option parsing helpers: index lists and ranges, each message naming the field and the valid values.
import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../engine/contracts/errors.js';
import { indexList, integerIn, numberIn, oneOf } from '../../engine/inputs/options.js';

describe('option parsing', () => {
  it('reads index lists with ranges', () => {
    expect(indexList('0-3,7,9-10', 'players')).toEqual([0, 1, 2, 3, 7, 9, 10]);
    expect(indexList([4, 2], 'players')).toEqual([4, 2]);
    expect(indexList('5', 'players', 6)).toEqual([5]);
  });

  it.each([
    ['3-1', /runs backwards/],
    ['a', /"a" is not an index/],
    ['1,1', /listed twice/],
    ['', /list of indices/],
    ['0-6', /column 6 is out of range; valid columns are 0..5/],
  ])('rejects %j', (value, message) => {
    expect(() => indexList(value, 'players', 6, 'column')).toThrowError(message);
    expect(() => indexList(value, 'players', 6, 'column')).toThrowError(InvalidOptionError);
  });

  it('names the field, the valid range and what it got', () => {
    expect(() => integerIn(1.5, 0, 4, 'options.workers')).toThrowError('options.workers must be an integer in 0..4 (got 1.5).');
    expect(() => numberIn(-1, 0, Infinity, 'options.lr', true)).toThrowError('options.lr must be a finite number > 0 (got -1).');
    expect(() => oneOf('gpu', ['cpu', 'cuda'], 'options.backend')).toThrowError('options.backend must be one of: cpu, cuda (got "gpu").');
  });
});
