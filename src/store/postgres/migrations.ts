/**
 * @module store/postgres/migrations — the PostgreSQL schema as versioned migrations, numbered as
 * the SQLite ones (src/store/sqlite/migrations.ts) so that version N means the same tables on both
 * drivers. Each node applies what is missing at start, under an advisory lock (store.ts). Never
 * edit a released migration: append a new one.
 *
 * Types, against SQLite's: times are `timestamptz` (a JavaScript Date has ms precision and
 * PostgreSQL keeps µs, so a Date round-trips exactly), flags are `boolean`, counters and sequence
 * numbers `bigint` (read back as numbers: connection.ts refuses one past 2^53), JSON arrays of
 * strings are `text[]`. Ordered text (tags by key) is compared with COLLATE "C" in the queries, as
 * SQLite compares bytes, whatever the database's collation.
 */

/** One schema change. */
export interface PgMigration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const PG_MIGRATIONS: readonly PgMigration[] = [
  {
    version: 1,
    name: 'control plane: scopes, vpcs, security groups, rules, tags, prefix lists (and the change log)',
    // Rules get their final key here (SQLite's migration 4 moved it there): the namespace leads,
    // and the database itself refuses a second identical rule, so no race can store two. The
    // change log is PostgreSQL's own: the change feed's catch-up after a missed notification.
    sql: `
      CREATE TABLE scopes (
        seq bigint GENERATED ALWAYS AS IDENTITY,
        account_id text NOT NULL,
        region text NOT NULL,
        default_vpc_id text NOT NULL,
        PRIMARY KEY (account_id, region)
      );
      CREATE TABLE vpcs (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        vpc_id text NOT NULL UNIQUE,
        account_id text NOT NULL,
        region text NOT NULL,
        cidr_block text NOT NULL,
        ipv6_cidr_block text,
        is_default boolean NOT NULL
      );
      CREATE INDEX vpcs_scope ON vpcs (account_id, region);
      CREATE TABLE security_groups (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        group_id text NOT NULL UNIQUE,
        account_id text NOT NULL,
        region text NOT NULL,
        vpc_id text NOT NULL,
        group_name text NOT NULL,
        description text NOT NULL,
        is_default boolean NOT NULL,
        UNIQUE (vpc_id, group_name)
      );
      CREATE INDEX security_groups_scope ON security_groups (account_id, region);
      CREATE TABLE security_group_rules (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        rule_id text NOT NULL UNIQUE,
        account_id text NOT NULL,
        region text NOT NULL,
        group_id text NOT NULL,
        group_owner_id text NOT NULL,
        direction text NOT NULL CHECK (direction IN ('egress', 'ingress')),
        ip_protocol text NOT NULL,
        from_port integer NOT NULL,
        to_port integer NOT NULL,
        target_kind text NOT NULL CHECK (target_kind IN ('ipv4', 'ipv6', 'prefixList', 'group')),
        cidr text,
        prefix_list_id text,
        ref_group_id text,
        ref_user_id text,
        ref_vpc_id text,
        description text,
        rule_key text NOT NULL,
        CONSTRAINT security_group_rules_rule_key UNIQUE (account_id, region, group_id, direction, rule_key)
      );
      CREATE INDEX rules_ref_group ON security_group_rules (ref_group_id) WHERE ref_group_id IS NOT NULL;
      CREATE INDEX rules_prefix_list ON security_group_rules (prefix_list_id) WHERE prefix_list_id IS NOT NULL;
      CREATE TABLE tags (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        account_id text NOT NULL,
        region text NOT NULL,
        resource_id text NOT NULL,
        resource_type text NOT NULL,
        key text NOT NULL,
        value text NOT NULL,
        UNIQUE (resource_id, key)
      );
      CREATE INDEX tags_scope ON tags (account_id, region, resource_type);
      CREATE TABLE prefix_lists (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        prefix_list_id text NOT NULL UNIQUE,
        account_id text NOT NULL,
        region text NOT NULL,
        name text NOT NULL,
        address_family text NOT NULL,
        max_entries integer NOT NULL,
        version integer NOT NULL,
        state text NOT NULL
      );
      CREATE INDEX prefix_lists_scope ON prefix_lists (account_id, region);
      CREATE TABLE prefix_list_entries (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        prefix_list_id text NOT NULL,
        cidr text NOT NULL,
        description text,
        added_version integer NOT NULL,
        removed_version integer
      );
      CREATE INDEX prefix_list_entries_list ON prefix_list_entries (prefix_list_id);
      -- One row per committed write transaction, written in it (change-feed.ts). Every writer
      -- holds the write lock while it draws its seq and until it commits, so rows become visible
      -- in seq order and "seq > the last one seen" never skips a row.
      CREATE TABLE change_log (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        origin text NOT NULL,
        account_id text,
        region text,
        kinds text[] NOT NULL,
        group_ids text[] NOT NULL,
        prefix_list_ids text[] NOT NULL,
        at timestamptz NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: 'rules indexed by group and direction',
    sql: `
      CREATE INDEX rules_group_prefix_lists ON security_group_rules (account_id, region, group_id, direction, prefix_list_id)
        WHERE prefix_list_id IS NOT NULL;
    `,
  },
  {
    version: 3,
    name: 'workload attachments, revoked gateway tokens, applied policy bundles',
    sql: `
      CREATE TABLE workload_attachments (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        account_id text NOT NULL,
        region text NOT NULL,
        identity text NOT NULL,
        group_id text NOT NULL,
        created_at timestamptz NOT NULL,
        UNIQUE (account_id, region, identity, group_id)
      );
      CREATE INDEX workload_attachments_group ON workload_attachments (group_id, account_id, region);
      CREATE TABLE revoked_tokens (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        token_id text NOT NULL UNIQUE,
        identity text,
        expires timestamptz NOT NULL,
        revoked_at timestamptz NOT NULL
      );
      CREATE INDEX revoked_tokens_expires ON revoked_tokens (expires);
      CREATE TABLE policy_bundles (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        bytes bytea NOT NULL,
        version text NOT NULL,
        hash text NOT NULL,
        applied_at timestamptz NOT NULL
      );
    `,
  },
  {
    version: 4,
    // SQLite's migration 4 rebuilt the rules table for fewer pages per write; PostgreSQL's rules
    // table has that key from version 1. Recorded all the same, so versions agree across drivers.
    name: 'rules: fewer pages written per rule (nothing to do on PostgreSQL)',
    sql: '',
  },
  {
    version: 5,
    name: 'vpcs: DNS and address-usage attributes (ModifyVpcAttribute)',
    // NULL means "as EC2 creates it", as on SQLite.
    sql: `
      ALTER TABLE vpcs ADD COLUMN enable_dns_support boolean;
      ALTER TABLE vpcs ADD COLUMN enable_dns_hostnames boolean;
      ALTER TABLE vpcs ADD COLUMN enable_network_address_usage_metrics boolean;
    `,
  },
  {
    version: 6,
    name: 'issued tokens',
    sql: `
      CREATE TABLE issued_tokens (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        token_id text NOT NULL UNIQUE,
        identity text NOT NULL,
        issued timestamptz NOT NULL,
        expires timestamptz NOT NULL
      );
      CREATE INDEX issued_tokens_expires ON issued_tokens (expires);
    `,
  },
  {
    version: 7,
    name: 'notification outbox',
    // `fields` is the JSON text as given (json/jsonb would reorder or re-space it).
    sql: `
      CREATE TABLE notifications (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        event text NOT NULL,
        text text NOT NULL,
        fields text NOT NULL,
        created_at timestamptz NOT NULL,
        dedupe_key text UNIQUE
      );
    `,
  },
  {
    version: 8,
    name: 'exceptions',
    sql: `
      CREATE TABLE exceptions (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        exception_id text NOT NULL UNIQUE,
        identity text NOT NULL,
        destinations text[] NOT NULL,
        reason text NOT NULL,
        data_class text,
        ttl_ms bigint NOT NULL,
        window_start timestamptz,
        window_end timestamptz,
        requester text NOT NULL,
        requested_at timestamptz NOT NULL,
        state text NOT NULL CHECK (state IN ('pending', 'approved', 'denied', 'revoked')),
        decided_by text,
        decided_at timestamptz,
        comment text,
        expires timestamptz,
        revoked_by text,
        revoked_at timestamptz,
        revoke_reason text
      );
      CREATE INDEX exceptions_identity ON exceptions (identity);
      CREATE INDEX exceptions_state ON exceptions (state);
    `,
  },
  {
    version: 9,
    name: 'break-glass sessions and used one-time codes',
    sql: `
      CREATE TABLE breakglass_sessions (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        session_id text NOT NULL UNIQUE,
        identity text NOT NULL,
        destinations text[] NOT NULL,
        reason text NOT NULL,
        principal text NOT NULL,
        opened_at timestamptz NOT NULL,
        expires timestamptz NOT NULL,
        drill boolean NOT NULL,
        closed_at timestamptz,
        closed_by text,
        close_reason text
      );
      CREATE INDEX breakglass_sessions_open ON breakglass_sessions (expires) WHERE closed_at IS NULL AND NOT drill;
      CREATE TABLE breakglass_totp_used (
        principal text NOT NULL,
        step bigint NOT NULL,
        used_at timestamptz NOT NULL,
        PRIMARY KEY (principal, step)
      );
    `,
  },
  {
    version: 10,
    name: 'audit trail: hash-chained records and signed digests',
    // seq is given, not drawn: the chain links record seq to seq - 1, and the primary key refuses
    // a second record at one place whichever node writes it. The triggers make an edit or a
    // deletion through SQL fail loudly (TRUNCATE too); the chain and the signed digests are what
    // show it when someone with the rights drops them.
    sql: `
      CREATE TABLE audit_records (
        seq bigint PRIMARY KEY,
        prev_hash text NOT NULL,
        hash text NOT NULL,
        event text NOT NULL,
        event_time timestamptz NOT NULL,
        event_name text NOT NULL,
        principal text NOT NULL,
        event_id text NOT NULL
      );
      CREATE TABLE audit_digests (
        seq bigint PRIMARY KEY,
        last_seq bigint NOT NULL,
        last_hash text NOT NULL,
        time timestamptz NOT NULL,
        previous_signature text,
        key_fingerprint text NOT NULL,
        signature text NOT NULL
      );
      CREATE FUNCTION weir_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION '% are append-only', replace(TG_TABLE_NAME, '_', ' '); END $$;
      CREATE TRIGGER audit_records_append_only BEFORE UPDATE OR DELETE ON audit_records
        FOR EACH ROW EXECUTE FUNCTION weir_append_only();
      CREATE TRIGGER audit_records_no_truncate BEFORE TRUNCATE ON audit_records
        FOR EACH STATEMENT EXECUTE FUNCTION weir_append_only();
      CREATE TRIGGER audit_digests_append_only BEFORE UPDATE OR DELETE ON audit_digests
        FOR EACH ROW EXECUTE FUNCTION weir_append_only();
      CREATE TRIGGER audit_digests_no_truncate BEFORE TRUNCATE ON audit_digests
        FOR EACH STATEMENT EXECUTE FUNCTION weir_append_only();
    `,
  },
  {
    version: 11,
    name: 'notification delivery',
    sql: `
      CREATE TABLE notification_webhooks (
        webhook text PRIMARY KEY,
        queued_through bigint NOT NULL,
        added_at timestamptz NOT NULL
      );
      CREATE TABLE notification_deliveries (
        webhook text NOT NULL,
        seq bigint NOT NULL,
        attempts integer NOT NULL,
        next_attempt_at timestamptz NOT NULL,
        delivered_at timestamptz,
        given_up_at timestamptz,
        last_error text,
        PRIMARY KEY (webhook, seq)
      );
      CREATE INDEX notification_deliveries_due ON notification_deliveries (webhook, next_attempt_at)
        WHERE delivered_at IS NULL AND given_up_at IS NULL;
    `,
  },
  {
    version: 12,
    name: 'gateway decisions and their counters',
    // As SQLite's 12. `seq` never comes back after a prune: an identity column draws from a
    // sequence, and `decisions_last_seq` keeps the highest one committed (what `after`, the live
    // follow, starts from: the sequence itself also counts values of uncommitted appends).
    sql: `
      CREATE TABLE decisions (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at timestamptz NOT NULL,
        decision_id text NOT NULL,
        decision text NOT NULL,
        reason text,
        identity text,
        src text NOT NULL,
        protocol text NOT NULL,
        host text,
        ip text,
        port integer,
        mode text,
        policy text,
        policy_name text,
        rule_id text,
        sg_rule_id text,
        snapshot text,
        guardrail text,
        grant_kind text,
        grant_id text,
        grant_json text,
        node text
      );
      CREATE INDEX decisions_decision_id ON decisions (decision_id);
      CREATE INDEX decisions_identity ON decisions (identity, seq);
      CREATE INDEX decisions_host ON decisions (host, seq);
      CREATE INDEX decisions_ip ON decisions (ip, seq);
      CREATE INDEX decisions_decision ON decisions (decision, seq);
      CREATE INDEX decisions_at ON decisions (at);
      CREATE TABLE decisions_last_seq (
        one boolean PRIMARY KEY DEFAULT true CHECK (one),
        seq bigint NOT NULL
      );
      INSERT INTO decisions_last_seq (seq) VALUES (0);
      CREATE TABLE decision_counts (
        bucket timestamptz NOT NULL,
        decision text NOT NULL,
        reason text NOT NULL,
        count bigint NOT NULL,
        PRIMARY KEY (bucket, decision, reason)
      );
      CREATE TABLE denied_pairs (
        bucket timestamptz NOT NULL,
        decision text NOT NULL,
        identity text NOT NULL,
        destination text NOT NULL,
        count bigint NOT NULL,
        PRIMARY KEY (bucket, decision, identity, destination)
      );
    `,
  },
];
