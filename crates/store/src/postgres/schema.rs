//! PostgreSQL schema and its migrations, applied in order inside one schema (the store's
//! `search_path`) and recorded in its `schema_migrations` table.
//!
//! # Layout, designed for a region's node (10^8..10^9 license versions)
//!
//! - `licenses` is hash-partitioned by `lineage` (16 partitions, as are the other partitioned
//!   tables): every version of one license, and every query that names a lineage
//!   (`versions`, a transition's UPDATE), lands in one partition. Its primary key is
//!   `(lineage, version)`. More partitions later means a data-moving migration.
//! - PostgreSQL only enforces a unique index on a partitioned table when it contains the
//!   partition key, so the two other uniqueness rules cannot live on `licenses` itself. Each
//!   gets a narrow claim table, written in the same transaction as the license:
//!   - `license_ids (identifier PK INCLUDE (lineage, version))`, hash-partitioned by
//!     `identifier`: makes an identifier unique across lineages, and routes a point lookup
//!     by identifier (migration 7): the lineage it gives prunes `licenses` to one partition
//!     as the executor starts, and `(lineage, version)` is that partition's primary key;
//!   - `license_slots ((status_list, status_idx) PK, identifier)`, hash-partitioned by
//!     `status_list`: a status-list slot belongs to one license version only.
//!
//!   The alternative, partitioning `licenses` by identifier, would make every lineage query
//!   visit every partition; not partitioning would leave one 10^9-row heap to vacuum.
//! - Per-partition indexes cover the other hot queries: `holder_key` (wallet) and
//!   `(status_list, status_idx) WHERE status_value <> 0` (status-list rebuild reads only
//!   non-valid slots) are one index probe per partition;
//!   `valid_until WHERE status IN ('valid','suspended')` (expiry sweep) is a merge of index
//!   scans. `queries` lists them; a test checks their plans.
//! - `events` is hash-partitioned by `lineage` too (primary key `(lineage, seq)`), so a
//!   license's history is one partition's index range; `seq` comes from the `events_seq`
//!   sequence (a bigserial shared by all partitions) and a partial index on `seq` (events
//!   that may change a status, migration 4) makes the status epoch a backward index probe
//!   per partition.
//! - Holder lookups use `holder_key`, a keyed hash of the holder code computed by the app:
//!   no plaintext personal data is indexed.
//! - Small tables (catalogue, issuers, keys, API keys, serials, status lists, import journal)
//!   are plain tables.
//! - The event log (migration 2: `log_entries`, `log_nodes`, `log_state`, `log_checkpoints`)
//!   is plain tables: appends are serialised by the one `log_state` row (`FOR UPDATE`), reads
//!   are primary-key point or range lookups. See `log`.
//!
//! - The holder wallet (migration 4) is plain tables; see `WALLET`.
//! - Relying institutions, their keys and their sharing requests (migration 5) are plain
//!   tables; see `INSTITUTIONS`.
//! - License partitions keep their rows inline (`toast_tuple_target = 8160`, migration 6):
//!   a credential is never compressed or moved to TOAST; see `INLINE_LICENSES`.
//! - Wallet sessions and failed sign-ins are plain tables; see `SESSIONS`.
//!
//! Migrations are append-only: an existing schema upgrades by running the ones it lacks.
//!
//! On a Citus cluster a store may ask for the distributed layout (`distributed`): the same
//! migrations run first, then `licenses`, `events`, `license_ids` and `license_slots` become
//! plain tables distributed over the workers.
//!
//! Integers are `bigint` because the records use `u32`/`u64`, which `integer` cannot hold.

use tokio_postgres::Client;

use super::distributed::{self, Layout};
use crate::error::{Result, StoreError};

/// Each entry migrates from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE catalogue (
    code text NOT NULL, version bigint NOT NULL, definition text NOT NULL,
    created_at bigint NOT NULL, PRIMARY KEY (code, version)
);
CREATE TABLE issuers (code text PRIMARY KEY, name text NOT NULL, area text NOT NULL);
CREATE TABLE issuer_keys (
    kid text PRIMARY KEY, issuer text NOT NULL REFERENCES issuers(code), alg text NOT NULL,
    public_jwk text NOT NULL, encrypted_pem text NOT NULL, sm2_signer_id text,
    not_before bigint NOT NULL, not_after bigint, revoked_at bigint,
    ord bigint GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX issuer_keys_issuer ON issuer_keys (issuer, not_before, ord);
CREATE TABLE api_keys (
    id text PRIMARY KEY, hash text NOT NULL, issuer text NOT NULL REFERENCES issuers(code),
    label text NOT NULL, created_at bigint NOT NULL, revoked_at bigint
);
CREATE TABLE serials (
    type_code text NOT NULL, issuer text NOT NULL, next bigint NOT NULL,
    PRIMARY KEY (type_code, issuer)
);
CREATE TABLE status_lists (id bigint PRIMARY KEY, issuer text NOT NULL, len bigint NOT NULL);
CREATE INDEX status_lists_issuer ON status_lists (issuer, id);

CREATE TABLE licenses (
    lineage text NOT NULL, version bigint NOT NULL, identifier text NOT NULL,
    type_code text NOT NULL, catalogue_version bigint NOT NULL, issuer text NOT NULL,
    holder_key text NOT NULL, status text NOT NULL, status_value smallint NOT NULL,
    pledged boolean NOT NULL, meta text NOT NULL, credential text NOT NULL, alg text NOT NULL,
    kid text NOT NULL, status_list bigint NOT NULL, status_idx bigint NOT NULL,
    issued_at bigint NOT NULL, valid_until bigint, updated_at bigint NOT NULL,
    PRIMARY KEY (lineage, version)
) PARTITION BY HASH (lineage);
CREATE INDEX licenses_identifier ON licenses (identifier);
CREATE INDEX licenses_holder ON licenses (holder_key, issued_at DESC, identifier);
CREATE INDEX licenses_non_valid ON licenses (status_list, status_idx) INCLUDE (status_value)
    WHERE status_value <> 0;
CREATE INDEX licenses_expiry ON licenses (valid_until)
    WHERE status IN ('valid', 'suspended') AND valid_until IS NOT NULL;

CREATE TABLE license_ids (identifier text PRIMARY KEY, lineage text NOT NULL)
    PARTITION BY HASH (identifier);
CREATE TABLE license_slots (
    status_list bigint NOT NULL, status_idx bigint NOT NULL, identifier text NOT NULL,
    PRIMARY KEY (status_list, status_idx)
) PARTITION BY HASH (status_list);

CREATE SEQUENCE events_seq AS bigint;
CREATE TABLE events (
    seq bigint NOT NULL DEFAULT nextval('events_seq'), lineage text NOT NULL,
    identifier text NOT NULL, kind text NOT NULL, actor text NOT NULL, at bigint NOT NULL,
    reason text, detail text NOT NULL, PRIMARY KEY (lineage, seq)
) PARTITION BY HASH (lineage);
CREATE INDEX events_seq_idx ON events (seq);

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['licenses', 'license_ids', 'license_slots', 'events'] LOOP
        FOR i IN 0..15 LOOP
            EXECUTE format(
                'CREATE TABLE %I PARTITION OF %I FOR VALUES WITH (MODULUS 16, REMAINDER %s)',
                t || '_p' || lpad(i::text, 2, '0'), t, i);
        END LOOP;
    END LOOP;
END $$;

CREATE TABLE import_jobs (job text PRIMARY KEY, source text NOT NULL, started_at bigint NOT NULL);
CREATE TABLE import_rows (
    job text NOT NULL REFERENCES import_jobs(job), row bigint NOT NULL, identifier text,
    error_code text, error_message text, PRIMARY KEY (job, row)
);
"#,
    r#"
CREATE TABLE log_entries (idx bigint PRIMARY KEY, seq bigint NOT NULL UNIQUE, data bytea NOT NULL);
CREATE TABLE log_nodes (
    level smallint NOT NULL, idx bigint NOT NULL, hash bytea NOT NULL, PRIMARY KEY (level, idx)
);
CREATE TABLE log_state (id integer PRIMARY KEY CHECK (id = 1), size bigint NOT NULL, peaks bytea NOT NULL);
INSERT INTO log_state (id, size, peaks) VALUES (1, 0, '\x');
CREATE TABLE log_checkpoints (size bigint PRIMARY KEY, note text NOT NULL, created_at bigint NOT NULL);
"#,
    HUB_INDEX,
    WALLET,
    INSTITUTIONS,
    INLINE_LICENSES,
    ROUTE_BY_KEY,
    HOLDER_BOUND,
    SHARE_KEEP_DAYS,
    SESSIONS,
    LEAF_V2,
    OPERATOR,
    FEDERATION,
    WITNESS,
    TRUST,
    OIDC,
    REPRESENTATIVES,
    STAFF,
    LIST_ALG,
    FORMS,
    VP_REQUESTS,
    STAFF_PERSON,
    VCI,
    VP_HOLDER,
    SEALS,
    KEY_CERTIFICATES,
];

/// Migration 3: the national hub's index (DESIGN.md, "Storage and scale"; docs/SCALE.md):
/// what the hub knows of every license of every node, and never personal data in clear. The
/// tables exist in every schema (empty on a region's node). When the `citus` extension is
/// installed in the database, they are distributed: `hub_licenses` and `hub_status_changes`
/// by `lineage` (co-located: a license and its history are on one shard), `hub_holders` by
/// `holder_key`, and the small tables become reference tables (a copy on every worker). With
/// plain PostgreSQL the Citus part is skipped.
///
/// Every hot lookup names its table's distribution column, so it hits one shard:
/// - verification by identifier: the app derives `lineage` (type.issuer.serial) and `version`
///   from the identifier's own segments: a primary-key probe, no identifier index;
/// - a holder's licenses: `hub_holders` by `holder_key` (one shard), then `hub_licenses` by
///   lineage (one shard per license).
///
/// `tests/citus.rs` applies it on a real cluster and checks the catalog and the plans.
const HUB_INDEX: &str = r#"
CREATE TABLE hub_nodes (
    code text PRIMARY KEY, area text NOT NULL, name text NOT NULL, url text NOT NULL
);
CREATE TABLE hub_issuers (code text PRIMARY KEY, area text NOT NULL, node text NOT NULL);
CREATE TABLE hub_types (code text PRIMARY KEY, name text NOT NULL);
CREATE TABLE hub_licenses (
    lineage text NOT NULL, version integer NOT NULL, identifier text NOT NULL,
    type_code text NOT NULL, issuer text NOT NULL, status smallint NOT NULL,
    node text NOT NULL, holder_key bytea NOT NULL, updated_at bigint NOT NULL,
    PRIMARY KEY (lineage, version)
);
CREATE TABLE hub_status_changes (
    lineage text NOT NULL, version integer NOT NULL, seq bigint NOT NULL,
    status smallint NOT NULL, at bigint NOT NULL, PRIMARY KEY (lineage, version, seq)
);
CREATE TABLE hub_holders (
    holder_key bytea NOT NULL, lineage text NOT NULL, PRIMARY KEY (holder_key, lineage)
);

DO $$
DECLARE
    -- 256 shards, unless the session says otherwise (`-c elicense.hub_shard_count=N`: the
    -- tests of a province's store, which make a schema per test and use no hub index).
    shards integer := coalesce(nullif(current_setting('elicense.hub_shard_count', true), '')::integer, 256);
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') THEN
        -- Tables created in this transaction are distributed over one connection per worker.
        SET LOCAL citus.multi_shard_modify_mode TO 'sequential';
        EXECUTE 'SELECT create_reference_table(''hub_nodes'')';
        EXECUTE 'SELECT create_reference_table(''hub_issuers'')';
        EXECUTE 'SELECT create_reference_table(''hub_types'')';
        EXECUTE format('SELECT create_distributed_table(''hub_licenses'', ''lineage'', shard_count => %s)', shards);
        EXECUTE 'SELECT create_distributed_table(''hub_status_changes'', ''lineage'', colocate_with => ''hub_licenses'')';
        EXECUTE format('SELECT create_distributed_table(''hub_holders'', ''holder_key'', shard_count => %s)', shards);
    END IF;
END $$;
"#;

/// Migration 4: the holder wallet (accounts, device-key bindings, prepared presentations,
/// authorizations of agents), plain tables: per holder they are few rows, looked up by
/// primary key or by one indexed column (`username`, `expires_at`, `lineage`, `agent_key`).
///
/// Events that leave every status as it was (uses of a license, authorizations) are marked
/// `affects_status = false`; the status epoch is the largest `seq` of the others, served by a
/// partial index (a backward probe per partition) that replaces `events_seq_idx`. Adding a
/// column with a constant default does not rewrite `events`.
const WALLET: &str = r#"
CREATE TABLE accounts (
    id text PRIMARY KEY, username text NOT NULL UNIQUE, password_hash text NOT NULL,
    profile text NOT NULL, holder_keys text[] NOT NULL, created_at bigint NOT NULL,
    disabled_at bigint
);
CREATE TABLE bindings (
    identifier text NOT NULL, jkt text NOT NULL, jwk text NOT NULL, credential text NOT NULL,
    created_at bigint NOT NULL, PRIMARY KEY (identifier, jkt)
);
CREATE TABLE presentations (
    id text PRIMARY KEY, identifier text NOT NULL, presentation text NOT NULL, matter text,
    created_at bigint NOT NULL, expires_at bigint NOT NULL
);
CREATE INDEX presentations_expiry ON presentations (expires_at);
CREATE TABLE authorizations (
    id text PRIMARY KEY, lineage text NOT NULL, identifier text NOT NULL,
    grantor_key text NOT NULL, agent_key text NOT NULL, agent_name text NOT NULL,
    matter text NOT NULL, valid_from bigint NOT NULL, valid_until bigint NOT NULL,
    created_at bigint NOT NULL, withdrawn_at bigint,
    ord bigint GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX authorizations_lineage ON authorizations (lineage, created_at DESC, ord DESC);
CREATE INDEX authorizations_agent ON authorizations (agent_key, created_at DESC, ord DESC);

ALTER TABLE events ADD COLUMN affects_status boolean NOT NULL DEFAULT true;
CREATE INDEX events_status_seq ON events (seq) WHERE affects_status;
DROP INDEX events_seq_idx;
"#;

/// Migration 5: relying institutions (`matters` as `text[]`), their API keys and their
/// sharing requests, plain tables: requests are read by primary key, by holder (`= ANY` of a
/// holder's few keyed hashes) and by institution, newest first (`created_at`, then `id`),
/// each served by an index in that order. Their events are uses (`affects_status = false`).
const INSTITUTIONS: &str = r#"
CREATE TABLE institutions (
    code text PRIMARY KEY, name text NOT NULL, area text NOT NULL, matters text[] NOT NULL,
    created_at bigint NOT NULL, disabled_at bigint
);
CREATE TABLE institution_keys (
    id text PRIMARY KEY, hash text NOT NULL,
    institution text NOT NULL REFERENCES institutions(code), label text NOT NULL,
    created_at bigint NOT NULL, revoked_at bigint
);
CREATE TABLE shares (
    id text PRIMARY KEY, institution text NOT NULL, staff text NOT NULL, matter text NOT NULL,
    purpose text NOT NULL, identifier text NOT NULL, lineage text NOT NULL,
    holder_key text NOT NULL, basis text NOT NULL, state text NOT NULL,
    created_at bigint NOT NULL, expires_at bigint NOT NULL, decided_at bigint, copy text,
    copy_until bigint
);
CREATE INDEX shares_holder ON shares (holder_key, created_at DESC, id DESC);
CREATE INDEX shares_institution ON shares (institution, created_at DESC, id DESC);
"#;

/// Migration 6: a license row (credential ~2.7 KB of base64url, metadata ~0.8 KB) stays in its
/// heap page. With the default 2 KB `toast_tuple_target` every insert first tried to compress
/// the credential (base64url of signed JSON barely compresses, so pglz gave up after spending
/// the CPU) and then moved it out of line: a second tuple and an index entry in the partition's
/// TOAST table, and a second lookup on every read. `toast_tuple_target` is a storage parameter
/// of each partition (a partitioned table has no storage of its own), so it is set on every
/// partition `licenses` has; rows written before this migration stay as they are.
const INLINE_LICENSES: &str = r#"
DO $$
DECLARE p regclass;
BEGIN
    FOR p IN SELECT inhrelid::regclass FROM pg_inherits
             WHERE inhparent = 'licenses'::regclass LOOP
        EXECUTE format('ALTER TABLE %s SET (toast_tuple_target = 8160)', p);
    END LOOP;
END $$;
"#;

/// Migration 7: a point lookup by identifier is a primary-key probe of `licenses`. The claim
/// row in `license_ids` now carries the version as well as the lineage, in the primary key's
/// leaf (`INCLUDE`), so routing is an index-only probe of one `license_ids` partition and the
/// license is then found by `(lineage, version)` in one `licenses` partition. That made
/// `licenses_identifier` redundant: it cost a BitmapAnd on every lookup (one more index page
/// to read, from disk once the store outgrows memory: 4 page reads per lookup at 10^7
/// licenses, now 3) and one more index entry on every insert. Existing claim rows get their
/// version from the license they name before the index goes.
const ROUTE_BY_KEY: &str = r#"
ALTER TABLE license_ids ADD COLUMN version bigint;
UPDATE license_ids i SET version = l.version FROM licenses l
    WHERE l.lineage = i.lineage AND l.identifier = i.identifier;
ALTER TABLE license_ids ALTER COLUMN version SET NOT NULL;
ALTER TABLE license_ids DROP CONSTRAINT license_ids_pkey;
ALTER TABLE license_ids ADD PRIMARY KEY (identifier) INCLUDE (lineage, version);
DROP INDEX licenses_identifier;
"#;

/// Migration 8: access bound to the holder. An authorization names the license holder who
/// granted it (filled from the version it was granted on, found through `license_ids`) and may
/// be ended by a transfer; a presentation is stored when prepared (its device key and nonce
/// chosen by the node), completed once and opened once as a use; bindings are capped per
/// license version, oldest dropped (`bindings_age`).
const HOLDER_BOUND: &str = r#"
ALTER TABLE authorizations ADD COLUMN holder_key text;
ALTER TABLE authorizations ADD COLUMN ended_at bigint;
UPDATE authorizations a SET holder_key = l.holder_key
    FROM license_ids i JOIN licenses l ON l.lineage = i.lineage AND l.version = i.version
    WHERE i.identifier = a.identifier;
ALTER TABLE authorizations ALTER COLUMN holder_key SET NOT NULL;
ALTER TABLE presentations ADD COLUMN jkt text NOT NULL DEFAULT '';
ALTER TABLE presentations ADD COLUMN nonce text NOT NULL DEFAULT '';
ALTER TABLE presentations ADD COLUMN completed_at bigint;
ALTER TABLE presentations ADD COLUMN opened_at bigint;
UPDATE presentations SET completed_at = created_at;
CREATE INDEX bindings_age ON bindings (identifier, created_at);
"#;

/// Migration 9: a sharing request keeps the period the institution asked for in its own
/// column; `copy_until` is only ever the end of a granted copy's use (a pending request
/// carried the day count there before).
const SHARE_KEEP_DAYS: &str = r#"
ALTER TABLE shares ADD COLUMN keep_days bigint NOT NULL DEFAULT 30;
UPDATE shares SET keep_days = copy_until, copy_until = NULL WHERE state = 'pending';
UPDATE shares SET keep_days = GREATEST(1, (copy_until - decided_at + 86399) / 86400)
    WHERE state = 'granted' AND copy_until IS NOT NULL AND decided_at IS NOT NULL;
"#;

/// Migration 10: wallet sessions and failed sign-ins, plain tables. A session is found by its primary key
/// (a hash of the cookie's secret); disabling an account ends its open sessions through
/// `sessions_open`; the sweeper deletes old sessions and failures by `created_at` and `at`.
/// Failures are listed per account, newest first (`at`, then insertion order `ord`).
const SESSIONS: &str = r#"
CREATE TABLE sessions (
    id text PRIMARY KEY, account text NOT NULL REFERENCES accounts(id),
    created_at bigint NOT NULL, last_seen bigint NOT NULL, ended_at bigint
);
CREATE INDEX sessions_open ON sessions (account) WHERE ended_at IS NULL;
CREATE INDEX sessions_created ON sessions (created_at);
CREATE TABLE sign_in_failures (
    account text NOT NULL REFERENCES accounts(id), at bigint NOT NULL, client text NOT NULL,
    reason text NOT NULL, ord bigint GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX sign_in_failures_account ON sign_in_failures (account, at DESC, ord DESC);
CREATE INDEX sign_in_failures_at ON sign_in_failures (at);
"#;

/// Migration 11: leaf format 2 (see `crate::log`): a lifecycle event's public reason category beside its
/// free text (a nullable column without default: no rewrite of `events`), and the openings of
/// uses' commitments (salt, committed event bytes), a plain table read by event sequence
/// number.
const LEAF_V2: &str = r#"
ALTER TABLE events ADD COLUMN reason_category text;
CREATE TABLE log_openings (seq bigint PRIMARY KEY, salt bytea NOT NULL, event bytea NOT NULL);
"#;

/// Migration 12: the region operator (see `crate::log` and `OperatorStore`): its API keys
/// (stored hashed), its events (numbered by their own identity column, apart from license
/// events; their log rows carry `seq = -seq`) and the openings of the committed ones
/// (actions on an institution or an account). Plain tables: a node's operator does a few
/// things a day.
const OPERATOR: &str = r#"
CREATE TABLE operator_keys (
    id text PRIMARY KEY, hash text NOT NULL, label text NOT NULL, created_at bigint NOT NULL,
    revoked_at bigint
);
CREATE TABLE operator_events (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, action text NOT NULL,
    subject text NOT NULL, actor text NOT NULL, at bigint NOT NULL, since bigint
);
CREATE TABLE operator_openings (seq bigint PRIMARY KEY, salt bytea NOT NULL, event bytea NOT NULL);
"#;

/// Migration 14: witnessing (C2SP tlog-witness, `WitnessStore`): the logs this node co-signs
/// as a parent, each with the head it last co-signed in one row (advanced by one conditional
/// UPDATE: the check of the old size and the write are atomic), the forks it saw, and this
/// node's own checkpoints co-signed by its parent. Plain tables: a parent has a few dozen
/// children.
const WITNESS: &str = r#"
CREATE TABLE witness_logs (
    origin text PRIMARY KEY, vkeys text NOT NULL, url text NOT NULL,
    size bigint NOT NULL DEFAULT 0, root bytea, checkpoint text,
    admitted_at bigint NOT NULL, updated_at bigint NOT NULL
);
CREATE TABLE witness_forks (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, origin text NOT NULL,
    kind text NOT NULL, cosigned_size bigint NOT NULL, cosigned_root bytea NOT NULL,
    checkpoint text NOT NULL, at bigint NOT NULL
);
CREATE TABLE cosigned_checkpoints (
    size bigint PRIMARY KEY, note text NOT NULL, created_at bigint NOT NULL
);
"#;

/// Migration 16: OpenID Connect sign-in (`crate::oidc`): authorization requests under way
/// (taken once by `DELETE … RETURNING`, purged by expiry) and the link of a provider's
/// subject to its account. Plain tables: one row per sign-in under way, one per person.
const OIDC: &str = r#"
CREATE TABLE oidc_logins (
    id text PRIMARY KEY, binding text NOT NULL, nonce text NOT NULL, verifier text NOT NULL,
    next text NOT NULL, created_at bigint NOT NULL, expires_at bigint NOT NULL
);
CREATE INDEX oidc_logins_expiry ON oidc_logins (expires_at);
CREATE TABLE oidc_links (
    issuer text NOT NULL, subject text NOT NULL,
    account text NOT NULL UNIQUE REFERENCES accounts(id), created_at bigint NOT NULL,
    PRIMARY KEY (issuer, subject)
);
"#;

/// The schema version this build writes.
pub const SCHEMA_VERSION: usize = MIGRATIONS.len();

/// Where a schema stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationStatus {
    /// The schema the store uses.
    pub schema: String,
    /// Highest applied migration (0 for an empty schema).
    pub current: usize,
    /// The version this build writes ([`SCHEMA_VERSION`]).
    pub latest: usize,
    /// Applied migrations: (version, applied at as unix seconds).
    pub applied: Vec<(usize, i64)>,
}

impl MigrationStatus {
    /// Migrations this build would still apply.
    pub fn pending(&self) -> usize {
        self.latest.saturating_sub(self.current)
    }
}

/// Advisory-lock class of migrations (second key: hash of the schema name).
/// Migration 13: the federation (`crate::federation`): the nodes this node knows, the
/// replication state of each child, the outbox of entries for the parent, the parent's
/// acknowledgement and the issuers children report (plain tables: few rows, or, for the
/// outbox, read in `seq` order); each directory row keeps the log index and kind of the event
/// it was last written from, so an upsert never goes back to an older event. On Citus the
/// `ALTER TABLE`s reach every shard; the new tables stay on the coordinator.
const FEDERATION: &str = r#"
ALTER TABLE hub_licenses ADD COLUMN log_index bigint NOT NULL DEFAULT 0;
ALTER TABLE hub_licenses ADD COLUMN kind text NOT NULL DEFAULT 'issue';
CREATE TABLE fed_nodes (
    url text PRIMARY KEY, area text NOT NULL, level text NOT NULL, parent text,
    document text NOT NULL, via text, updated_at bigint NOT NULL
);
CREATE TABLE fed_children (
    child text PRIMARY KEY, size bigint NOT NULL, peaks bytea NOT NULL,
    forwarded_next bigint NOT NULL, checkpoint text
);
CREATE TABLE fed_outbox (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, origin text NOT NULL, idx bigint NOT NULL,
    identifier text NOT NULL, lineage text NOT NULL, version integer NOT NULL,
    type_code text NOT NULL, issuer text NOT NULL, kind text NOT NULL, status smallint NOT NULL,
    at bigint NOT NULL, holder_key bytea NOT NULL, UNIQUE (origin, idx)
);
CREATE TABLE fed_issuers (code text PRIMARY KEY, node text NOT NULL, document text NOT NULL);
CREATE TABLE fed_push (
    id integer PRIMARY KEY CHECK (id = 1), log_size bigint NOT NULL, forwarded_next bigint NOT NULL
);
"#;

/// Migration 15: the trust list (`crate::trust`): an issuing authority's successor and end,
/// the hub's mutual-recognition lists and the number of the last trust list it published
/// (plain tables on the coordinator under Citus).
const TRUST: &str = r#"
ALTER TABLE issuers ADD COLUMN successor text;
ALTER TABLE issuers ADD COLUMN ended_at bigint;
CREATE TABLE recognition_lists (
    id text PRIMARY KEY, name text NOT NULL, areas text NOT NULL, types text NOT NULL,
    updated_at bigint NOT NULL
);
CREATE TABLE trust_publication (id integer PRIMARY KEY CHECK (id = 1), seq bigint NOT NULL);
"#;

/// Migration 17: the legal representative of an enterprise holder (keyed hash of their
/// resident ID) on each license version, found by `represented_by` (an index per partition;
/// on a distributed province store a query to every shard: it runs for each request of a
/// wallet session, never for a verification).
const REPRESENTATIVES: &str = r#"
ALTER TABLE licenses ADD COLUMN representative_key text;
CREATE INDEX licenses_representative ON licenses (representative_key)
    WHERE representative_key IS NOT NULL;
"#;

/// Migration 18: relying institutions' staff (`InstitutionStore::put_staff`; a plain table
/// on the coordinator under Citus).
const STAFF: &str = r#"
CREATE TABLE staff (
    institution text NOT NULL REFERENCES institutions(code), username text NOT NULL,
    name text NOT NULL, matters text[] NOT NULL, created_at bigint NOT NULL,
    disabled_at bigint, PRIMARY KEY (institution, username)
);
"#;

/// Migration 19: a status list's algorithm (`StatusListRecord::alg`): an issuer's lists are
/// per algorithm, each signed with the issuer's key of that algorithm. Lists made before keep
/// NULL (signed as before) and get no new slots. A coordinator table under Citus.
const LIST_ALG: &str = r#"
ALTER TABLE status_lists ADD COLUMN alg text;
CREATE INDEX status_lists_issuer_alg ON status_lists (issuer, alg, id);
"#;

/// Migration 20: institutions' forms (免填报, `InstitutionStore::put_form`; a plain table on
/// the coordinator under Citus).
const FORMS: &str = r#"
CREATE TABLE forms (
    institution text NOT NULL REFERENCES institutions(code), matter text NOT NULL,
    fields text NOT NULL, updated_at bigint NOT NULL, PRIMARY KEY (institution, matter)
);
"#;

/// Migration 21: OpenID4VP presentation requests (`PresentationRequestStore`; a plain table
/// on the coordinator under Citus).
const VP_REQUESTS: &str = r#"
CREATE TABLE vp_requests (
    id text PRIMARY KEY, institution text NOT NULL REFERENCES institutions(code),
    staff text NOT NULL, matter text NOT NULL, purpose text NOT NULL,
    keep_days bigint NOT NULL, response_mode text NOT NULL, nonce text NOT NULL,
    state text NOT NULL, webhook text, created_at bigint NOT NULL,
    expires_at bigint NOT NULL, fetched_at bigint, answered_at bigint, outcome text,
    share text, webhook_attempts bigint NOT NULL DEFAULT 0, webhook_done_at bigint
);
CREATE INDEX vp_requests_institution ON vp_requests (institution, created_at);
CREATE INDEX vp_requests_webhooks ON vp_requests (answered_at)
    WHERE webhook IS NOT NULL AND webhook_done_at IS NULL AND answered_at IS NOT NULL;
"#;

/// Migration 22: staff who sign in: the keyed hash of the person's resident ID
/// (`InstitutionStore::staff_by_person`).
const STAFF_PERSON: &str = r#"
ALTER TABLE staff ADD COLUMN person_key text;
CREATE INDEX staff_person ON staff (person_key) WHERE person_key IS NOT NULL;
"#;

/// Migration 23: OpenID4VCI credential offers and nonces (`crate::vci`): secrets kept as
/// hashes, an offer found by its code or its access token, both purged by expiry. Plain
/// tables (on the coordinator under Citus).
const VCI: &str = r#"
CREATE TABLE vci_offers (
    id text PRIMARY KEY, identifier text NOT NULL, actor text NOT NULL, tx_code text NOT NULL,
    failures bigint NOT NULL, created_at bigint NOT NULL, expires_at bigint NOT NULL,
    token text UNIQUE, token_expires_at bigint, redeemed_at bigint
);
CREATE INDEX vci_offers_expiry ON vci_offers (expires_at);
CREATE TABLE vci_nonces (nonce text PRIMARY KEY, expires_at bigint NOT NULL);
CREATE INDEX vci_nonces_expiry ON vci_nonces (expires_at);
"#;

/// Migration 24: presentation requests addressed to a person (一码通,
/// `PresentationRequestStore::vp_requests_for_holders`).
const VP_HOLDER: &str = r#"
ALTER TABLE vp_requests ADD COLUMN holder_key text;
CREATE INDEX vp_requests_holder ON vp_requests (holder_key)
    WHERE holder_key IS NOT NULL AND answered_at IS NULL;
"#;

/// Migration 25: electronic seals (`crate::seals`): the node's seal CAs (one per algorithm),
/// the seals filed with it (`users` as `text[]`, as `institutions.matters` is) and every use of
/// one (`seq` an identity: it only grows). Node-local plain tables, on the coordinator under
/// Citus as `vp_requests` is: seals are few, and no query joins them with a distributed table.
/// `seals_inactive` serves the CA's revocation list.
const SEALS: &str = r#"
CREATE TABLE seal_cas (
    alg text PRIMARY KEY, encrypted_pem text NOT NULL, certificate bytea NOT NULL,
    created_at bigint NOT NULL
);
CREATE TABLE seals (
    id text PRIMARY KEY, owner text NOT NULL, owner_name text NOT NULL, kind text NOT NULL,
    name text NOT NULL, alg text NOT NULL, encrypted_pem text NOT NULL,
    certificate bytea NOT NULL, serial text NOT NULL, seal bytea NOT NULL, picture bytea NOT NULL,
    valid_from bigint NOT NULL, valid_to bigint NOT NULL, status text NOT NULL,
    status_at bigint NOT NULL, license text, users text[] NOT NULL,
    created_at bigint NOT NULL, created_by text NOT NULL, UNIQUE (alg, serial)
);
CREATE INDEX seals_owner ON seals (owner, created_at);
CREATE INDEX seals_license ON seals (license, created_at) WHERE license IS NOT NULL;
CREATE INDEX seals_inactive ON seals (alg, status_at) WHERE status <> 'active';
CREATE TABLE seal_uses (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    seal text NOT NULL REFERENCES seals(id), at bigint NOT NULL, actor text NOT NULL,
    document text NOT NULL, page bigint NOT NULL, purpose text NOT NULL
);
CREATE INDEX seal_uses_seal ON seal_uses (seal, seq);
"#;

/// Migration 26: issuer keys certified by an outside CA (`SealStore::put_key_certificate`),
/// the chain as an array of DER certificates. Node-local, on the coordinator under Citus.
const KEY_CERTIFICATES: &str = r#"
CREATE TABLE key_certificates (
    kid text PRIMARY KEY, chain bytea[] NOT NULL, subject text NOT NULL, issuer text NOT NULL,
    serial text NOT NULL, not_after bigint NOT NULL, attached_at bigint NOT NULL,
    attached_by text NOT NULL
);
"#;

const MIGRATION_LOCK: i32 = 0x454c_0001;

/// Creates `schema` if needed and brings it up to [`SCHEMA_VERSION`], under an advisory lock
/// so that stores connecting at once migrate one after the other; with `distribute`, then
/// spreads its license tables over a Citus cluster (see `distributed`) in the same
/// transaction. Refuses a schema written by a newer build. Returns the number of migrations
/// applied and the layout the schema has.
pub(super) async fn migrate(
    client: &mut Client,
    schema: &str,
    distribute: bool,
) -> Result<(usize, Layout)> {
    let tx = client.transaction().await?;
    tx.execute(
        "SELECT pg_advisory_xact_lock($1, hashtext($2))",
        &[&MIGRATION_LOCK, &schema],
    )
    .await?;
    let exists = tx
        .query_opt("SELECT 1 FROM pg_namespace WHERE nspname = $1", &[&schema])
        .await?
        .is_some();
    if !exists {
        // `schema` was checked to be a plain lowercase identifier.
        tx.batch_execute(&format!("CREATE SCHEMA {schema}")).await?;
    }
    tx.batch_execute(&format!(
        "SET LOCAL search_path TO {schema};
         CREATE TABLE IF NOT EXISTS schema_migrations (
             version integer PRIMARY KEY,
             applied_at timestamptz NOT NULL DEFAULT now())"
    ))
    .await?;
    let current = current_version(&tx).await?;
    if current > SCHEMA_VERSION {
        return Err(StoreError::Unavailable(format!(
            "database schema version {current} is newer than this build ({SCHEMA_VERSION})"
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current) {
        tx.batch_execute(sql).await?;
        tx.execute(
            "INSERT INTO schema_migrations (version) VALUES ($1)",
            &[&((i + 1) as i32)],
        )
        .await?;
    }
    let layout = if distribute {
        distributed::distribute(&tx).await?
    } else {
        distributed::layout(&tx).await?
    };
    tx.commit().await?;
    Ok((SCHEMA_VERSION - current, layout))
}

/// Reads where `schema` stands without changing it.
pub async fn status(client: &Client, schema: &str) -> Result<MigrationStatus> {
    let table = format!("{schema}.schema_migrations");
    let exists: bool = client
        .query_one("SELECT to_regclass($1) IS NOT NULL", &[&table])
        .await?
        .get(0);
    let mut applied = Vec::new();
    if exists {
        let rows = client
            .query(
                &format!(
                    "SELECT version, extract(epoch FROM applied_at)::bigint FROM {table} \
                     ORDER BY version"
                ),
                &[],
            )
            .await?;
        for r in rows {
            let v: i32 = r.try_get(0)?;
            applied.push((v as usize, r.try_get(1)?));
        }
    }
    Ok(MigrationStatus {
        schema: schema.to_owned(),
        current: applied.last().map_or(0, |(v, _)| *v),
        latest: SCHEMA_VERSION,
        applied,
    })
}

async fn current_version(tx: &tokio_postgres::Transaction<'_>) -> Result<usize> {
    let v: Option<i32> = tx
        .query_one("SELECT max(version) FROM schema_migrations", &[])
        .await?
        .try_get(0)?;
    Ok(v.unwrap_or(0) as usize)
}
