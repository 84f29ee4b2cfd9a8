/** @module api/weir/input.test — query parameters of the Weir API. */
import { describe, expect, it } from 'vitest';
import { WeirApiError } from './errors.js';
import { booleanQuery } from './input.js';

describe('booleanQuery', () => {
  it('reads true and false, absent as false, and names anything else', () => {
    expect(booleanQuery({ all: 'true' }, 'all', 'ListTokens')).toBe(true);
    expect(booleanQuery({ all: 'false' }, 'all', 'ListTokens')).toBe(false);
    expect(booleanQuery({}, 'all', 'ListTokens')).toBe(false);
    expect(() => booleanQuery({ all: 'yes' }, 'all', 'ListBreakglass')).toThrow(
      new WeirApiError('InvalidParameterValue', `ListBreakglass: 'all' must be true or false, got "yes"`),
    );
  });
});
