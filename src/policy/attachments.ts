/**
 * @module policy/attachments — the security groups a policy set's `WorkloadRegistry` declares
 * attached to identities (`securityGroups`): what the gateway adds to the API's attachments, and
 * what `weir workload list` shows beside them.
 */
import type { PolicySet, SourceLocation } from './types.js';

/** One group declared attached to one identity, with the registry entry that says so. */
export interface DeclaredAttachment {
  readonly identity: string;
  readonly groupId: string;
  /** The registry entry, when the set was loaded from files. */
  readonly loc?: SourceLocation;
}

/** Every (identity, group) pair the set's registry declares, in file order, each once. */
export function declaredAttachments(set: PolicySet): DeclaredAttachment[] {
  const out: DeclaredAttachment[] = [];
  const seen = new Set<string>();
  for (const w of set.workloads) {
    for (const groupId of w.securityGroups ?? []) {
      const key = `${w.identity}\n${groupId}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ identity: w.identity, groupId, ...(w.loc !== undefined ? { loc: w.loc } : {}) });
    }
  }
  return out;
}
