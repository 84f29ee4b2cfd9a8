/**
 * @module api/scope-view — a read of a scope nobody has written to: what EC2 shows in every
 * region (the default VPC and its `default` group with its rules) served from memory, and no
 * write allowed. Server-wide reads (scopes, revoked tokens, the bundle) go to the store.
 */
import type {
  Direction,
  ManagedPrefixList,
  PrefixListEntry,
  Scope,
  SecurityGroup,
  SecurityGroupRule,
  Tag,
  Vpc,
} from '../model/index.js';
import type {
  AuditDigest,
  AuditQuery,
  AuditRecord,
  NewRule,
  PrefixListChange,
  RevokedToken,
  RuleQuery,
  ScopeRecord,
  StoredBundle,
  StoreTx,
  IssuedToken,
  NewNotification,
  NotificationAttempt,
  NotificationBacklog,
  QueuedNotification,
  BreakglassClose,
  BreakglassSession,
  ExceptionQuery,
  ExceptionRecord,
  TagRecord,
  VpcAttributeName,
  VpcAttributes,
  WorkloadAttachment,
  DecisionCount,
  DecisionPeriod,
  DecisionSearch,
  DeniedPairCount,
  NewDecision,
  StoredDecision,
} from '../store/index.js';
import type { ScopeDefaults } from './scope.js';

/**
 * Reached only by a bug: every write goes through `ScopeRegistry.ensure` first, which stores
 * the scope. Refusing here (a 500) keeps "reads create nothing" true even then.
 */
function refuse(): never {
  throw new Error('a scope that was never written to is read-only: ScopeRegistry.ensure must store it first');
}

/** `StoreTx` for one unwritten scope: its defaults, from memory; other scopes pass through. */
export class DefaultScopeView implements StoreTx {
  constructor(
    private readonly tx: StoreTx,
    private readonly scope: Scope,
    private readonly d: ScopeDefaults,
  ) {}

  private mine(scope: Scope): boolean {
    return scope.accountId === this.scope.accountId && scope.region === this.scope.region;
  }

  private rules(): SecurityGroupRule[] {
    return this.d.rules.map((r) => r.rule);
  }

  async getScope(scope: Scope): Promise<ScopeRecord | undefined> {
    return this.mine(scope) ? { defaultVpcId: this.d.vpc.vpcId } : this.tx.getScope(scope);
  }
  async getVpc(scope: Scope, vpcId: string): Promise<Vpc | undefined> {
    if (!this.mine(scope)) return this.tx.getVpc(scope, vpcId);
    return vpcId === this.d.vpc.vpcId ? this.d.vpc : undefined;
  }
  async listVpcs(scope: Scope, vpcIds?: readonly string[]): Promise<Vpc[]> {
    if (!this.mine(scope)) return this.tx.listVpcs(scope, vpcIds);
    return !vpcIds || vpcIds.includes(this.d.vpc.vpcId) ? [this.d.vpc] : [];
  }
  async getVpcAttributes(scope: Scope, vpcId: string): Promise<VpcAttributes | undefined> {
    if (!this.mine(scope)) return this.tx.getVpcAttributes(scope, vpcId);
    // EC2's defaults for a default VPC (the only VPC an unwritten scope has).
    return vpcId === this.d.vpc.vpcId
      ? { enableDnsSupport: true, enableDnsHostnames: true, enableNetworkAddressUsageMetrics: false }
      : undefined;
  }
  async getGroup(scope: Scope, groupId: string): Promise<SecurityGroup | undefined> {
    if (!this.mine(scope)) return this.tx.getGroup(scope, groupId);
    return groupId === this.d.group.groupId ? this.d.group : undefined;
  }
  async findGroupByName(scope: Scope, vpcId: string, groupName: string): Promise<SecurityGroup | undefined> {
    if (!this.mine(scope)) return this.tx.findGroupByName(scope, vpcId, groupName);
    const g = this.d.group;
    return g.vpcId === vpcId && g.groupName === groupName ? g : undefined;
  }
  async listGroups(
    scope: Scope,
    q?: { groupIds?: readonly string[]; vpcId?: string },
  ): Promise<SecurityGroup[]> {
    if (!this.mine(scope)) return this.tx.listGroups(scope, q);
    const g = this.d.group;
    const wanted = (!q?.groupIds || q.groupIds.includes(g.groupId)) && (!q?.vpcId || q.vpcId === g.vpcId);
    return wanted ? [g] : [];
  }
  async countGroups(scope: Scope, vpcId: string): Promise<number> {
    if (!this.mine(scope)) return this.tx.countGroups(scope, vpcId);
    return this.d.group.vpcId === vpcId ? 1 : 0;
  }
  async listRules(scope: Scope, q?: RuleQuery): Promise<SecurityGroupRule[]> {
    if (!this.mine(scope)) return this.tx.listRules(scope, q);
    return this.rules().filter(
      (r) =>
        (!q?.groupIds || q.groupIds.includes(r.groupId)) &&
        (!q?.ruleIds || q.ruleIds.includes(r.ruleId)) &&
        (!q?.direction || q.direction === r.direction),
    );
  }
  async findRuleByKey(
    scope: Scope,
    groupId: string,
    direction: Direction,
    key: string,
  ): Promise<SecurityGroupRule | undefined> {
    if (!this.mine(scope)) return this.tx.findRuleByKey(scope, groupId, direction, key);
    return this.d.rules.find(
      (r) => r.key === key && r.rule.groupId === groupId && r.rule.direction === direction,
    )?.rule;
  }
  async countRules(scope: Scope, groupId: string, direction: Direction): Promise<number> {
    if (!this.mine(scope)) return this.tx.countRules(scope, groupId, direction);
    return this.rules().filter((r) => r.groupId === groupId && r.direction === direction).length;
  }
  async prefixListRefs(scope: Scope, groupId: string, direction: Direction): Promise<string[]> {
    return this.mine(scope) ? [] : this.tx.prefixListRefs(scope, groupId, direction);
  }
  async countReferences(
    scope: Scope,
    ref: { readonly groupId: string } | { readonly prefixListId: string },
    exceptGroupId?: string,
  ): Promise<number> {
    if (!this.mine(scope)) return this.tx.countReferences(scope, ref, exceptGroupId);
    if (!('groupId' in ref)) return 0;
    return this.rules().filter(
      (r) => r.groupId !== exceptGroupId && r.target.kind === 'group' && r.target.groupId === ref.groupId,
    ).length;
  }
  async listTags(scope: Scope, resourceIds?: readonly string[]): Promise<TagRecord[]> {
    return this.mine(scope) ? [] : this.tx.listTags(scope, resourceIds);
  }
  async getPrefixList(scope: Scope, prefixListId: string): Promise<ManagedPrefixList | undefined> {
    return this.mine(scope) ? undefined : this.tx.getPrefixList(scope, prefixListId);
  }
  async listPrefixLists(scope: Scope, prefixListIds?: readonly string[]): Promise<ManagedPrefixList[]> {
    return this.mine(scope) ? [] : this.tx.listPrefixLists(scope, prefixListIds);
  }
  async getPrefixListEntries(
    scope: Scope,
    prefixListId: string,
    version?: number,
  ): Promise<PrefixListEntry[]> {
    return this.mine(scope) ? [] : this.tx.getPrefixListEntries(scope, prefixListId, version);
  }
  async listWorkloadAttachments(
    scope: Scope,
    q?: { readonly identity?: string; readonly groupId?: string },
  ): Promise<WorkloadAttachment[]> {
    return this.mine(scope) ? [] : this.tx.listWorkloadAttachments(scope, q);
  }
  listScopes(): Promise<Scope[]> {
    return this.tx.listScopes();
  }
  listRevokedTokens(now: Date): Promise<RevokedToken[]> {
    return this.tx.listRevokedTokens(now);
  }
  getPolicyBundle(): Promise<StoredBundle | undefined> {
    return this.tx.getPolicyBundle();
  }
  listPolicyBundles(limit: number): Promise<StoredBundle[]> {
    return this.tx.listPolicyBundles(limit);
  }
  listIssuedTokens(now?: Date): Promise<IssuedToken[]> {
    return this.tx.listIssuedTokens(now);
  }
  getIssuedToken(id: string): Promise<IssuedToken | undefined> {
    return this.tx.getIssuedToken(id);
  }
  getBreakglassSession(id: string): Promise<BreakglassSession | undefined> {
    return this.tx.getBreakglassSession(id);
  }
  listBreakglassSessions(q?: { readonly openAt?: Date }): Promise<BreakglassSession[]> {
    return this.tx.listBreakglassSessions(q);
  }
  lastAuditRecord(): Promise<{ readonly seq: number; readonly hash: string } | undefined> {
    return this.tx.lastAuditRecord();
  }
  listAuditRecords(q?: AuditQuery): Promise<AuditRecord[]> {
    return this.tx.listAuditRecords(q);
  }
  listAuditDigests(): Promise<AuditDigest[]> {
    return this.tx.listAuditDigests();
  }
  getException(id: string): Promise<ExceptionRecord | undefined> {
    return this.tx.getException(id);
  }
  listExceptions(q?: ExceptionQuery): Promise<ExceptionRecord[]> {
    return this.tx.listExceptions(q);
  }

  // Writes: none, in any scope (the transaction was opened for a read).
  insertScope(_s: Scope, _r: ScopeRecord): Promise<void> {
    refuse();
  }
  insertVpc(_s: Scope, _v: Vpc): Promise<void> {
    refuse();
  }
  deleteVpc(_s: Scope, _id: string): Promise<void> {
    refuse();
  }
  setVpcAttribute(_s: Scope, _id: string, _n: VpcAttributeName, _v: boolean): Promise<void> {
    refuse();
  }
  recordIssuedToken(_t: IssuedToken): Promise<void> {
    refuse();
  }
  insertGroup(_s: Scope, _g: SecurityGroup): Promise<void> {
    refuse();
  }
  deleteGroup(_s: Scope, _id: string): Promise<void> {
    refuse();
  }
  insertRules(_s: Scope, _r: readonly NewRule[]): Promise<void> {
    refuse();
  }
  replaceRule(_s: Scope, _r: NewRule): Promise<void> {
    refuse();
  }
  deleteRules(_s: Scope, _ids: readonly string[]): Promise<void> {
    refuse();
  }
  putTags(_s: Scope, _id: string, _type: string, _t: readonly Tag[]): Promise<void> {
    refuse();
  }
  deleteTags(
    _s: Scope,
    _id: string,
    _t: readonly { readonly key: string; readonly value?: string }[] | undefined,
  ): Promise<void> {
    refuse();
  }
  insertPrefixList(_s: Scope, _l: ManagedPrefixList, _e: readonly PrefixListEntry[]): Promise<void> {
    refuse();
  }
  updatePrefixList(_s: Scope, _l: ManagedPrefixList, _c?: PrefixListChange): Promise<void> {
    refuse();
  }
  deletePrefixList(_s: Scope, _id: string): Promise<void> {
    refuse();
  }
  attachWorkload(_s: Scope, _a: WorkloadAttachment): Promise<void> {
    refuse();
  }
  detachWorkload(_s: Scope, _identity: string, _groupId: string): Promise<boolean> {
    refuse();
  }
  revokeToken(_t: RevokedToken): Promise<void> {
    refuse();
  }
  putPolicyBundle(_b: StoredBundle): Promise<void> {
    refuse();
  }
  enqueueNotification(_n: NewNotification): Promise<boolean> {
    refuse();
  }
  addNotificationWebhook(_webhook: string, _at: Date): Promise<boolean> {
    refuse();
  }
  takeNewNotifications(_webhook: string): Promise<number> {
    refuse();
  }
  dueNotifications(webhook: string, now: Date, limit: number): Promise<QueuedNotification[]> {
    return this.tx.dueNotifications(webhook, now, limit);
  }
  recordNotificationAttempt(_webhook: string, _seq: number, _a: NotificationAttempt): Promise<void> {
    refuse();
  }
  notificationBacklog(webhook: string): Promise<NotificationBacklog> {
    return this.tx.notificationBacklog(webhook);
  }
  useTotpStep(_p: string, _step: number, _at: Date): Promise<boolean> {
    refuse();
  }
  insertBreakglassSession(_s: BreakglassSession): Promise<void> {
    refuse();
  }
  closeBreakglassSession(_id: string, _c: BreakglassClose): Promise<boolean> {
    refuse();
  }
  appendAuditRecord(_r: AuditRecord): Promise<void> {
    refuse();
  }
  appendAuditDigest(_d: AuditDigest): Promise<void> {
    refuse();
  }
  insertException(_e: ExceptionRecord): Promise<void> {
    refuse();
  }
  updateException(_e: ExceptionRecord): Promise<boolean> {
    refuse();
  }
  // Decisions: server-wide, read through; appends and prunes are the decision writer's.
  listDecisions(q: DecisionSearch): Promise<StoredDecision[]> {
    return this.tx.listDecisions(q);
  }
  getDecision(decisionId: string): Promise<StoredDecision | undefined> {
    return this.tx.getDecision(decisionId);
  }
  lastDecisionSeq(): Promise<number> {
    return this.tx.lastDecisionSeq();
  }
  listDecisionCounts(p: DecisionPeriod): Promise<DecisionCount[]> {
    return this.tx.listDecisionCounts(p);
  }
  topDeniedPairs(
    p: DecisionPeriod & { readonly limit: number; readonly decision?: string },
  ): Promise<DeniedPairCount[]> {
    return this.tx.topDeniedPairs(p);
  }
  appendDecisions(_rows: readonly NewDecision[]): Promise<void> {
    refuse();
  }
  addDecisionCounts(_counts: readonly DecisionCount[]): Promise<void> {
    refuse();
  }
  addDeniedPairs(_pairs: readonly DeniedPairCount[], _maxPerBucket: number): Promise<void> {
    refuse();
  }
  pruneDecisions(_q: {
    readonly before: Date;
    readonly maxRows: number;
    readonly limit: number;
  }): Promise<number> {
    refuse();
  }
  pruneDecisionCounts(_before: Date, _limit: number): Promise<number> {
    refuse();
  }
}
