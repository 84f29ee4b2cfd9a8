import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { cookieValue, usesConsoleSession } from './console-front.js';

const req = (headers: Record<string, string>): IncomingMessage => ({ headers }) as unknown as IncomingMessage;

describe('the console session cookie', () => {
  it.each([
    ['weir_session=abc', 'abc'],
    ['a=1; weir_session=abc; b=2', 'abc'],
    ['a=1;weir_session = abc ', 'abc'],
    ['weir_session=first; weir_session=second', 'first'],
    ['xweir_session=abc; weir_sessionx=def', undefined],
    ['weir_session', undefined],
    ['', undefined],
  ])('reads %j as %j', (header, value) => {
    expect(cookieValue(req({ cookie: header }), 'weir_session')).toBe(value);
  });

  it('is used only when the request carries no signature of either form', () => {
    const cookie = { cookie: 'weir_session=abc' };
    expect(usesConsoleSession(req(cookie), '')).toBe(true);
    expect(usesConsoleSession(req(cookie), 'identity=x')).toBe(true);
    expect(usesConsoleSession(req({ ...cookie, authorization: 'AWS4-HMAC-SHA256 …' }), '')).toBe(false);
    expect(usesConsoleSession(req(cookie), 'X-Amz-Credential=AKIA%2F…&X-Amz-Signature=00')).toBe(false);
    expect(usesConsoleSession(req({}), '')).toBe(false);
    expect(usesConsoleSession(req({ cookie: 'other=1' }), '')).toBe(false);
  });
});
