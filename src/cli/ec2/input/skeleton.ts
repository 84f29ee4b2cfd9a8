/**
 * @module cli/ec2/input/skeleton — botocore's ArgumentGenerator, behind `--generate-cli-skeleton`: an
 * input skeleton (`""`, `0`, `true`, one-element lists, every member) and an output skeleton whose
 * strings are their member names. Enum strings take their first value where botocore picks one at
 * random.
 * Port of botocore 1.43.11's `botocore/utils.py` (`ArgumentGenerator`) as awscli 1.45.11's
 * `awscli/customizations/generatecliskeleton.py` uses it.
 */
import type { ServiceModel } from '../service.js';

/**
 * A sample value of `shapeName`.
 * @param useMemberNames strings become their member name (the output skeleton).
 */
export function generateSkeleton(model: ServiceModel, shapeName: string, useMemberNames = false): unknown {
  const stack: string[] = [];
  const walk = (name: string, memberName: string): unknown => {
    stack.push(name);
    try {
      const s = model.shape(name);
      switch (s.type) {
        case 'structure': {
          if (stack.filter((n) => n === name).length > 1) return {};
          const out: Record<string, unknown> = {};
          for (const [member, ref] of Object.entries(s.members)) out[member] = walk(ref.shape, member);
          return out;
        }
        case 'list':
          return [walk(s.member.shape, useMemberNames ? s.member.shape : '')];
        case 'string':
          if (useMemberNames) return memberName;
          return s.enum?.[0] ?? '';
        case 'integer':
        case 'long':
          return 0;
        case 'float':
        case 'double':
          return 0.0;
        case 'boolean':
          return true;
        case 'timestamp':
          return '1970-01-01T00:00:00';
        default:
          return undefined;
      }
    } finally {
      stack.pop();
    }
  };
  return walk(shapeName, '');
}
