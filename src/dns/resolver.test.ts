import { describe, expect, it } from 'vitest';
import { parseHostsFile } from './resolver.js';
import type { HostsFileProblem } from './resolver.js';

describe('parseHostsFile', () => {
  it('maps every name of a line to its address, lower case, without the trailing dot', () => {
    const hosts = parseHostsFile('# names\n127.0.0.1 A.test b.test.\r\n\n2001:DB8::1 a.test # v6\n');
    expect([...hosts]).toEqual([
      ['a.test', ['127.0.0.1', '2001:db8::1']],
      ['b.test', ['127.0.0.1']],
    ]);
  });

  it('skips a line that maps nothing, and says where and why', () => {
    const problems: HostsFileProblem[] = [];
    const hosts = parseHostsFile(
      '127.0.0.1 a.test\nnot-an-ip b.test\n10.0.0.1\n  10.0.0.300 c.test\n',
      problems,
    );
    expect([...hosts.keys()]).toEqual(['a.test']);
    expect(problems).toEqual([
      { line: 2, col: 1, message: "'not-an-ip' is not an IP address; the line is skipped" },
      { line: 3, col: 1, message: '10.0.0.1 is followed by no host name; the line is skipped' },
      { line: 4, col: 3, message: "'10.0.0.300' is not an IP address; the line is skipped" },
    ]);
  });
});
