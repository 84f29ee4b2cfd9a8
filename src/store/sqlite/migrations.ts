/**
 * @module store/sqlite/migrations — versioned schema changes, applied in order at open.
 * Never edit a released migration: append a new one.
 */

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'control plane: scopes, vpcs, security groups, rules, tags, prefix lists',
    sql: `
      CREATE TABLE scopes (
        account_id TEXT NOT NULL,
        region TEXT NOT NULL,
        default_vpc_id TEXT NOT NULL,
        PRIMARY KEY (account_id, region)
      );
      CREATE TABLE vpcs (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        vpc_id TEXT NOT NULL UNIQUE,
        account_id TEXT NOT NULL,
        region TEXT NOT NULL,
        cidr_block TEXT NOT NULL,
        ipv6_cidr_block TEXT,
        is_default INTEGER NOT NULL
      );
      CREATE INDEX vpcs_scope ON vpcs (account_id, region);
      CREATE TABLE security_groups (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        group_id TEXT NOT NULL UNIQUE,
        account_id TEXT NOT NULL,
        region TEXT NOT NULL,
        vpc_id TEXT NOT NULL,
        group_name TEXT NOT NULL,
        description TEXT NOT NULL,
        is_default INTEGER NOT NULL,
        UNIQUE (vpc_id, group_name)
      );
      CREATE INDEX security_groups_scope ON security_groups (account_id, region);
      CREATE TABLE security_group_rules (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        rule_id TEXT NOT NULL UNIQUE,
        account_id TEXT NOT NULL,
        region TEXT NOT NULL,
        group_id TEXT NOT NULL,
        group_owner_id TEXT NOT NULL,
        direction TEXT NOT NULL CHECK (direction IN ('egress', 'ingress')),
        ip_protocol TEXT NOT NULL,
        from_port INTEGER NOT NULL,
        to_port INTEGER NOT NULL,
        target_kind TEXT NOT NULL CHECK (target_kind IN ('ipv4', 'ipv6', 'prefixList', 'group')),
        cidr TEXT,
        prefix_list_id TEXT,
        ref_group_id TEXT,
        ref_user_id TEXT,
        ref_vpc_id TEXT,
        description TEXT,
        rule_key TEXT NOT NULL,
        -- The database itself refuses a second identical rule, so no race can store two.
        UNIQUE (group_id, direction, rule_key)
      );
      CREATE INDEX rules_scope ON security_group_rules (account_id, region);
      CREATE INDEX rules_ref_group ON security_group_rules (ref_group_id) WHERE ref_group_id IS NOT NULL;
      CREATE INDEX rules_prefix_list ON security_group_rules (prefix_list_id) WHERE prefix_list_id IS NOT NULL;
      CREATE TABLE tags (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        account_id TEXT NOT NULL,
        region TEXT NOT NULL,
        resource_id TEXT NOT NULL,
        resource_type TEXT NOT NULL,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        UNIQUE (resource_id, key)
      );
      CREATE INDEX tags_scope ON tags (account_id, region);
      CREATE TABLE prefix_lists (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        prefix_list_id TEXT NOT NULL UNIQUE,
        account_id TEXT NOT NULL,
        region TEXT NOT NULL,
        name TEXT NOT NULL,
        address_family TEXT NOT NULL,
        max_entries INTEGER NOT NULL,
        version INTEGER NOT NULL,
        state TEXT NOT NULL
      );
      CREATE INDEX prefix_lists_scope ON prefix_lists (account_id, region);
      -- Entries carry the version range they were live in, so any past version can be read.
      CREATE TABLE prefix_list_entries (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        prefix_list_id TEXT NOT NULL,
        cidr TEXT NOT NULL,
        description TEXT,
        added_version INTEGER NOT NULL,
        removed_version INTEGER
      );
      CREATE INDEX prefix_list_entries_list ON prefix_list_entries (prefix_list_id);
    `,
  },
  {
    version: 2,
    name: 'rules indexed by group and direction',
    // Rule queries name a group; a scope-wide index made SQLite scan every rule of the region
    // to count or list one group's rules. Both indexes cover their queries (no table lookups).
    sql: `
      DROP INDEX rules_scope;
      CREATE INDEX rules_group ON security_group_rules (group_id, direction, account_id, region);
      CREATE INDEX rules_group_prefix_lists ON security_group_rules (group_id, direction, account_id, region, prefix_list_id)
        WHERE prefix_list_id IS NOT NULL;
    `,
  },
  {
    version: 3,
    name: 'workload attachments, revoked gateway tokens, applied policy bundles',
    // Times are epoch ms (exact round trip of a Date, and ordered comparisons in SQL).
    sql: `
      CREATE TABLE workload_attachments (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        account_id TEXT NOT NULL,
        region TEXT NOT NULL,
        identity TEXT NOT NULL,
        group_id TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        UNIQUE (account_id, region, identity, group_id)
      );
      CREATE INDEX workload_attachments_group ON workload_attachments (group_id, account_id, region);
      CREATE TABLE revoked_tokens (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        token_id TEXT NOT NULL UNIQUE,
        identity TEXT,
        expires INTEGER NOT NULL,
        revoked_at INTEGER NOT NULL
      );
      CREATE INDEX revoked_tokens_expires ON revoked_tokens (expires);
      -- Every applied bundle is kept; the one in force is the last.
      CREATE TABLE policy_bundles (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        bytes BLOB NOT NULL,
        version TEXT NOT NULL,
        hash TEXT NOT NULL,
        applied_at INTEGER NOT NULL
      );
    `,
  },
  {
    version: 4,
    name: 'rules: fewer pages written per rule',
    // Every rule write appended 5 pages to the WAL: the table leaf, sqlite_sequence (AUTOINCREMENT)
    // and three index pages. A plain INTEGER PRIMARY KEY still numbers rules in creation order
    // among the rules that exist (only the number of a deleted last rule can come back, after
    // it is gone). The unique index leads with the namespace, so it also serves what
    // rules_group did (a group's rules or their count, scope included): same uniqueness, since a
    // group ID belongs to one namespace. Now 3 pages per rule.
    sql: `
      CREATE TABLE security_group_rules_v4 (
        seq INTEGER PRIMARY KEY,
        rule_id TEXT NOT NULL UNIQUE,
        account_id TEXT NOT NULL,
        region TEXT NOT NULL,
        group_id TEXT NOT NULL,
        group_owner_id TEXT NOT NULL,
        direction TEXT NOT NULL CHECK (direction IN ('egress', 'ingress')),
        ip_protocol TEXT NOT NULL,
        from_port INTEGER NOT NULL,
        to_port INTEGER NOT NULL,
        target_kind TEXT NOT NULL CHECK (target_kind IN ('ipv4', 'ipv6', 'prefixList', 'group')),
        cidr TEXT,
        prefix_list_id TEXT,
        ref_group_id TEXT,
        ref_user_id TEXT,
        ref_vpc_id TEXT,
        description TEXT,
        rule_key TEXT NOT NULL,
        UNIQUE (account_id, region, group_id, direction, rule_key)
      );
      INSERT INTO security_group_rules_v4 (seq, rule_id, account_id, region, group_id, group_owner_id, direction, ip_protocol, from_port, to_port,
        target_kind, cidr, prefix_list_id, ref_group_id, ref_user_id, ref_vpc_id, description, rule_key)
        SELECT seq, rule_id, account_id, region, group_id, group_owner_id, direction, ip_protocol, from_port, to_port,
        target_kind, cidr, prefix_list_id, ref_group_id, ref_user_id, ref_vpc_id, description, rule_key FROM security_group_rules ORDER BY seq;
      DROP TABLE security_group_rules;
      ALTER TABLE security_group_rules_v4 RENAME TO security_group_rules;
      DELETE FROM sqlite_sequence WHERE name = 'security_group_rules';
      CREATE INDEX rules_ref_group ON security_group_rules (ref_group_id) WHERE ref_group_id IS NOT NULL;
      CREATE INDEX rules_prefix_list ON security_group_rules (prefix_list_id) WHERE prefix_list_id IS NOT NULL;
      CREATE INDEX rules_group_prefix_lists ON security_group_rules (group_id, direction, account_id, region, prefix_list_id)
        WHERE prefix_list_id IS NOT NULL;
    `,
  },
  {
    version: 5,
    name: 'vpcs: DNS and address-usage attributes (ModifyVpcAttribute)',
    // NULL means "as EC2 creates it" (DNS support on; DNS hostnames on only in a default VPC;
    // address-usage metrics off), so existing VPCs need no backfill and reads write nothing.
    sql: `
      ALTER TABLE vpcs ADD COLUMN enable_dns_support INTEGER;
      ALTER TABLE vpcs ADD COLUMN enable_dns_hostnames INTEGER;
      ALTER TABLE vpcs ADD COLUMN enable_network_address_usage_metrics INTEGER;
      `,
  },
  {
    version: 6,
    name: 'issued tokens',
    // What `weir token list|inspect` show and what makes revoking an unknown ID an error: each
    // issued token's claims, never its text or signature (the table is no credential store).
    sql: `
      CREATE TABLE issued_tokens (
        seq INTEGER PRIMARY KEY,
        token_id TEXT NOT NULL UNIQUE,
        identity TEXT NOT NULL,
        issued INTEGER NOT NULL,
        expires INTEGER NOT NULL
      );
      CREATE INDEX issued_tokens_expires ON issued_tokens (expires);
    `,
  },
  {
    version: 7,
    name: 'notification outbox',
    // Written in the transaction of the change it tells of, delivered later (at least once); a
    // dedupe key makes "once a day per rule" notices idempotent. Delivery state is added by the
    // deliverer's own migration.
    sql: `
      CREATE TABLE notifications (
        seq INTEGER PRIMARY KEY,
        event TEXT NOT NULL,
        text TEXT NOT NULL,
        fields TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        dedupe_key TEXT UNIQUE
      );
    `,
  },
  {
    version: 8,
    name: 'exceptions',
    // One row per exception request; state changes update it in place (the audit trail keeps the
    // history). `expired` is never stored: it is derived from `expires`, so reads write nothing.
    sql: `
      CREATE TABLE exceptions (
        seq INTEGER PRIMARY KEY,
        exception_id TEXT NOT NULL UNIQUE,
        identity TEXT NOT NULL,
        destinations TEXT NOT NULL,
        reason TEXT NOT NULL,
        data_class TEXT,
        ttl_ms INTEGER NOT NULL,
        window_start INTEGER,
        window_end INTEGER,
        requester TEXT NOT NULL,
        requested_at INTEGER NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'denied', 'revoked')),
        decided_by TEXT,
        decided_at INTEGER,
        comment TEXT,
        expires INTEGER,
        revoked_by TEXT,
        revoked_at INTEGER,
        revoke_reason TEXT
      );
      CREATE INDEX exceptions_identity ON exceptions (identity);
      CREATE INDEX exceptions_state ON exceptions (state);
    `,
  },
  {
    version: 9,
    name: 'break-glass sessions and used one-time codes',
    // Used codes are kept per (principal, time step): the primary key alone refuses a replay,
    // and the largest step per principal refuses an older code after a newer one. Destinations
    // are a JSON array of canonical texts; times are epoch ms.
    sql: `
      CREATE TABLE breakglass_sessions (
        seq INTEGER PRIMARY KEY,
        session_id TEXT NOT NULL UNIQUE,
        identity TEXT NOT NULL,
        destinations TEXT NOT NULL,
        reason TEXT NOT NULL,
        principal TEXT NOT NULL,
        opened_at INTEGER NOT NULL,
        expires INTEGER NOT NULL,
        drill INTEGER NOT NULL,
        closed_at INTEGER,
        closed_by TEXT,
        close_reason TEXT
      );
      CREATE INDEX breakglass_sessions_open ON breakglass_sessions (expires) WHERE closed_at IS NULL AND drill = 0;
      CREATE TABLE breakglass_totp_used (
        principal TEXT NOT NULL,
        step INTEGER NOT NULL,
        used_at INTEGER NOT NULL,
        PRIMARY KEY (principal, step)
      );
    `,
  },
  {
    version: 10,
    name: 'audit trail: hash-chained records and signed digests',
    // Records are appended in the transaction of the change they tell of (api/audit-hook.ts);
    // seq is given, not drawn, since the chain links record seq to seq - 1. The triggers make
    // an edit or a deletion through SQL fail loudly: someone with the file can drop them, which
    // is why the chain and the signed digests exist (audit verify sees what they did). No index
    // beside the seq: every API write appends a record in its own commit, and an index on the
    // time cost a page write per commit (a third of the append); `--since` reads in seq order.
    sql: `
      CREATE TABLE audit_records (
        seq INTEGER PRIMARY KEY,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL,
        event TEXT NOT NULL,
        event_time INTEGER NOT NULL,
        event_name TEXT NOT NULL,
        principal TEXT NOT NULL,
        event_id TEXT NOT NULL
      );
      CREATE TABLE audit_digests (
        seq INTEGER PRIMARY KEY,
        last_seq INTEGER NOT NULL,
        last_hash TEXT NOT NULL,
        time INTEGER NOT NULL,
        previous_signature TEXT,
        key_fingerprint TEXT NOT NULL,
        signature TEXT NOT NULL
      );
      CREATE TRIGGER audit_records_no_update BEFORE UPDATE ON audit_records
        BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
      CREATE TRIGGER audit_records_no_delete BEFORE DELETE ON audit_records
        BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
      CREATE TRIGGER audit_digests_no_update BEFORE UPDATE ON audit_digests
        BEGIN SELECT RAISE(ABORT, 'audit digests are append-only'); END;
      CREATE TRIGGER audit_digests_no_delete BEFORE DELETE ON audit_digests
        BEGIN SELECT RAISE(ABORT, 'audit digests are append-only'); END;
    `,
  },
  {
    version: 11,
    name: 'notification delivery',
    // Per-webhook delivery state of the outbox (migration 7), for at-least-once delivery that
    // survives restarts. A webhook is named by a digest of its URL (URLs may carry tokens), and
    // `queued_through` is the last outbox row taken into its deliveries: a webhook first seen
    // starts at the outbox's end, so it gets what is queued from then on, not the backlog.
    sql: `
      CREATE TABLE notification_webhooks (
        webhook TEXT PRIMARY KEY,
        queued_through INTEGER NOT NULL,
        added_at INTEGER NOT NULL
      );
      CREATE TABLE notification_deliveries (
        webhook TEXT NOT NULL,
        seq INTEGER NOT NULL,
        attempts INTEGER NOT NULL,
        next_attempt_at INTEGER NOT NULL,
        delivered_at INTEGER,
        given_up_at INTEGER,
        last_error TEXT,
        PRIMARY KEY (webhook, seq)
      );
      CREATE INDEX notification_deliveries_due ON notification_deliveries (webhook, next_attempt_at)
        WHERE delivered_at IS NULL AND given_up_at IS NULL;
    `,
  },
  {
    version: 12,
    name: 'gateway decisions and their counters',
    // Written off the gateway's hot path in batches (server/decision-writer.ts). `seq` is
    // AUTOINCREMENT so that it is never reused after a prune: `after` (live follow) relies on it.
    // The indexes serve the searches of ListDecisions (each filter with "newest first") and the
    // prune by time; the reason filter rides on the decision index (few reasons per decision).
    // Counters are small tables kept longer than the rows (DECISION_COUNTS_RETENTION_MS).
    sql: `
      CREATE TABLE decisions (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
        decision_id TEXT NOT NULL,
        decision TEXT NOT NULL,
        reason TEXT,
        identity TEXT,
        src TEXT NOT NULL,
        protocol TEXT NOT NULL,
        host TEXT,
        ip TEXT,
        port INTEGER,
        mode TEXT,
        policy TEXT,
        policy_name TEXT,
        rule_id TEXT,
        sg_rule_id TEXT,
        snapshot TEXT,
        guardrail TEXT,
        grant_kind TEXT,
        grant_id TEXT,
        grant_json TEXT,
        node TEXT
      );
      CREATE INDEX decisions_decision_id ON decisions (decision_id);
      CREATE INDEX decisions_identity ON decisions (identity, seq);
      CREATE INDEX decisions_host ON decisions (host, seq);
      CREATE INDEX decisions_ip ON decisions (ip, seq);
      CREATE INDEX decisions_decision ON decisions (decision, seq);
      CREATE INDEX decisions_at ON decisions (at);
      CREATE TABLE decision_counts (
        bucket INTEGER NOT NULL,
        decision TEXT NOT NULL,
        reason TEXT NOT NULL,
        count INTEGER NOT NULL,
        PRIMARY KEY (bucket, decision, reason)
      ) WITHOUT ROWID;
      CREATE TABLE denied_pairs (
        bucket INTEGER NOT NULL,
        decision TEXT NOT NULL,
        identity TEXT NOT NULL,
        destination TEXT NOT NULL,
        count INTEGER NOT NULL,
        PRIMARY KEY (bucket, decision, identity, destination)
      ) WITHOUT ROWID;
    `,
  },
];
