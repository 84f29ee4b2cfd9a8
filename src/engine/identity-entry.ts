/**
 * @module engine/identity-entry — what a snapshot keeps per identity it has seen: the blocks of
 * the policies that apply to it, the headers of the first two read ahead, and the decisions
 * already built for it (a decision is shared by every request with the same outcome).
 */
import type { PolicyTable } from './policy-table.js';
import type { Decision } from './types.js';

/**
 * Per-identity state: the blocks of its policies and the decisions already built for it. The
 * first two blocks' header fields and the first two decisions sit in the entry itself: most
 * identities have one or two policies and see one or two outcomes, and every extra object is
 * one more cache miss on a decision for an identity not seen lately. With the header fields at
 * hand, a cold block's name and prefix sets are read at once instead of after its header.
 */
export class IdentityEntry {
  readonly count: number;
  readonly block0: number;
  readonly block1: number;
  /** All blocks, in policy order (read from the third policy on). */
  readonly blocks: Int32Array;
  readonly allReport: boolean;
  // Header fields of the first two blocks (see `PolicyTable`): first rule record, name set,
  // IPv4 and IPv6 prefix sets (count, where).
  readonly rec0: number;
  readonly nameN0: number;
  readonly nameAt0: number;
  readonly v4N0: number;
  readonly v4At0: number;
  readonly v6N0: number;
  readonly v6At0: number;
  readonly rec1: number;
  readonly nameN1: number;
  readonly nameAt1: number;
  readonly v4N1: number;
  readonly v4At1: number;
  readonly v6N1: number;
  readonly v6At1: number;
  key0 = -1;
  decision0: Decision | undefined = undefined;
  key1 = -1;
  decision1: Decision | undefined = undefined;
  more: Map<number, Decision> | undefined = undefined;
  constructor(
    readonly identity: string,
    readonly policies: Int32Array,
    blockOf: Int32Array,
    table: PolicyTable,
  ) {
    this.blocks = policies.map((p) => blockOf[p] ?? 0);
    this.count = policies.length;
    const b0 = (this.block0 = this.blocks[0] ?? 0);
    const b1 = (this.block1 = this.blocks[1] ?? 0);
    this.allReport = this.count > 0 && this.blocks.every((b) => table.isReport(b));
    this.rec0 = table.ruleRecord(b0, 0);
    this.nameN0 = table.nameCount(b0);
    this.nameAt0 = table.nameAt(b0);
    this.v4N0 = table.cidrCount(b0, 4);
    this.v4At0 = table.cidrAt(b0, 4);
    this.v6N0 = table.cidrCount(b0, 6);
    this.v6At0 = table.cidrAt(b0, 6);
    this.rec1 = table.ruleRecord(b1, 0);
    this.nameN1 = table.nameCount(b1);
    this.nameAt1 = table.nameAt(b1);
    this.v4N1 = table.cidrCount(b1, 4);
    this.v4At1 = table.cidrAt(b1, 4);
    this.v6N1 = table.cidrCount(b1, 6);
    this.v6At1 = table.cidrAt(b1, 6);
  }

  decision(key: number): Decision | undefined {
    if (this.key0 === key) return this.decision0;
    if (this.key1 === key) return this.decision1;
    return this.more?.get(key);
  }

  remember(key: number, d: Decision): void {
    if (this.key0 < 0) {
      this.key0 = key;
      this.decision0 = d;
    } else if (this.key1 < 0) {
      this.key1 = key;
      this.decision1 = d;
    } else {
      (this.more ??= new Map()).set(key, d);
    }
  }
}
