import { describe, expect, it } from 'vitest';
import type { DecisionRequest, Explanation, MatchedRule } from '../engine/index.js';
import { formatExplanation } from './explain.js';

const ARN = 'arn:aws:ec2:us-east-1:123456789012:security-group-rule/sgr-0123456789abcdef0';
/** A security-group rule as the engine names it: its ARN for a file, line 0. */
const GROUP_RULE: MatchedRule = {
  policy: 'sg-0123456789abcdef0/web',
  ruleId: 'sgr-0123456789abcdef0',
  file: ARN,
  line: 0,
  securityGroupRuleId: 'sgr-0123456789abcdef0',
};
const REQ: DecisionRequest = { identity: 'svc', ip: '10.0.0.1', port: 443, protocol: 'tcp', now: 0 };

describe('formatExplanation of a security-group rule', () => {
  it('names its ARN alone, without a line number it does not have', () => {
    const e: Explanation = {
      decision: {
        allow: false,
        mode: 'enforce',
        reason: 'no-match',
        matched: GROUP_RULE,
        identity: 'svc',
        evalNs: 0,
      },
      nearMisses: [{ rule: GROUP_RULE, loc: { file: ARN, line: 0, col: 0 }, why: ['port 443 not in 80'] }],
    };
    const text = formatExplanation(REQ, e).join('\n');
    expect(text).toContain(`nearest:   sgr-0123456789abcdef0 (${ARN})\n`);
    expect(text).toContain(`  sg-0123456789abcdef0/web/sgr-0123456789abcdef0 (${ARN})\n`);
    expect(text).toContain(`extend sg-0123456789abcdef0/web/sgr-0123456789abcdef0 (${ARN}) or add`);
    expect(text).not.toContain(`${ARN}:0`);
  });
});
