//! SQLite schema and its migrations, applied in order and recorded in `PRAGMA user_version`.
//! Migrations are append-only: an existing database upgrades by running the ones it lacks.

use rusqlite::Connection;

use crate::error::Result;

/// Each entry migrates from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE catalogue (
    code TEXT NOT NULL, version INTEGER NOT NULL, definition TEXT NOT NULL,
    created_at INTEGER NOT NULL, PRIMARY KEY (code, version)
) WITHOUT ROWID;
CREATE TABLE issuers (code TEXT PRIMARY KEY, name TEXT NOT NULL, area TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE issuer_keys (
    kid TEXT PRIMARY KEY, issuer TEXT NOT NULL REFERENCES issuers(code), alg TEXT NOT NULL,
    public_jwk TEXT NOT NULL, encrypted_pem TEXT NOT NULL, sm2_signer_id TEXT,
    not_before INTEGER NOT NULL, not_after INTEGER, revoked_at INTEGER
);
CREATE INDEX issuer_keys_issuer ON issuer_keys(issuer);
CREATE TABLE api_keys (
    id TEXT PRIMARY KEY, hash TEXT NOT NULL, issuer TEXT NOT NULL REFERENCES issuers(code),
    label TEXT NOT NULL, created_at INTEGER NOT NULL, revoked_at INTEGER
) WITHOUT ROWID;
CREATE TABLE serials (
    type_code TEXT NOT NULL, issuer TEXT NOT NULL, next INTEGER NOT NULL,
    PRIMARY KEY (type_code, issuer)
) WITHOUT ROWID;
CREATE TABLE status_lists (id INTEGER PRIMARY KEY, issuer TEXT NOT NULL, len INTEGER NOT NULL);
CREATE INDEX status_lists_issuer ON status_lists(issuer, id);
CREATE TABLE licenses (
    identifier TEXT PRIMARY KEY, lineage TEXT NOT NULL, version INTEGER NOT NULL,
    type_code TEXT NOT NULL, catalogue_version INTEGER NOT NULL, issuer TEXT NOT NULL,
    holder_key TEXT NOT NULL, status TEXT NOT NULL, status_value INTEGER NOT NULL,
    pledged INTEGER NOT NULL, meta TEXT NOT NULL, credential TEXT NOT NULL, alg TEXT NOT NULL,
    kid TEXT NOT NULL, status_list INTEGER NOT NULL, status_idx INTEGER NOT NULL,
    issued_at INTEGER NOT NULL, valid_until INTEGER, updated_at INTEGER NOT NULL,
    UNIQUE (lineage, version), UNIQUE (status_list, status_idx)
);
CREATE INDEX licenses_holder ON licenses(holder_key);
CREATE INDEX licenses_non_valid ON licenses(status_list, status_idx, status_value)
    WHERE status_value <> 0;
CREATE INDEX licenses_expiry ON licenses(valid_until)
    WHERE status IN ('valid', 'suspended') AND valid_until IS NOT NULL;
CREATE TABLE events (
    seq INTEGER PRIMARY KEY, identifier TEXT NOT NULL, lineage TEXT NOT NULL, kind TEXT NOT NULL,
    actor TEXT NOT NULL, at INTEGER NOT NULL, reason TEXT, detail TEXT NOT NULL
);
CREATE INDEX events_lineage ON events(lineage, seq);
CREATE TABLE import_jobs (job TEXT PRIMARY KEY, source TEXT NOT NULL, started_at INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE import_rows (
    job TEXT NOT NULL REFERENCES import_jobs(job), row INTEGER NOT NULL, identifier TEXT,
    error_code TEXT, error_message TEXT, PRIMARY KEY (job, row)
) WITHOUT ROWID;
"#,
    r#"
CREATE TABLE log_entries (idx INTEGER PRIMARY KEY, seq INTEGER NOT NULL UNIQUE, data BLOB NOT NULL);
CREATE TABLE log_nodes (
    level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL, PRIMARY KEY (level, idx)
) WITHOUT ROWID;
CREATE TABLE log_state (id INTEGER PRIMARY KEY CHECK (id = 1), size INTEGER NOT NULL, peaks BLOB NOT NULL);
INSERT INTO log_state (id, size, peaks) VALUES (1, 0, x'');
CREATE TABLE log_checkpoints (size INTEGER PRIMARY KEY, note TEXT NOT NULL, created_at INTEGER NOT NULL);
"#,
    // 3: the holder wallet. Events that leave statuses as they are (uses, authorizations) are
    // marked, and the status epoch is the last unmarked event.
    r#"
CREATE TABLE accounts (
    id TEXT PRIMARY KEY, username TEXT NOT NULL UNIQUE, password_hash TEXT NOT NULL,
    profile TEXT NOT NULL, holder_keys TEXT NOT NULL, created_at INTEGER NOT NULL,
    disabled_at INTEGER
) WITHOUT ROWID;
CREATE TABLE bindings (
    identifier TEXT NOT NULL, jkt TEXT NOT NULL, jwk TEXT NOT NULL, credential TEXT NOT NULL,
    created_at INTEGER NOT NULL, PRIMARY KEY (identifier, jkt)
);
CREATE TABLE presentations (
    id TEXT NOT NULL PRIMARY KEY, identifier TEXT NOT NULL, presentation TEXT NOT NULL, matter TEXT,
    created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL
);
CREATE INDEX presentations_expiry ON presentations(expires_at);
CREATE TABLE authorizations (
    id TEXT NOT NULL PRIMARY KEY, lineage TEXT NOT NULL, identifier TEXT NOT NULL,
    grantor_key TEXT NOT NULL, agent_key TEXT NOT NULL, agent_name TEXT NOT NULL,
    matter TEXT NOT NULL, valid_from INTEGER NOT NULL, valid_until INTEGER NOT NULL,
    created_at INTEGER NOT NULL, withdrawn_at INTEGER
);
CREATE INDEX authorizations_lineage ON authorizations(lineage, created_at);
CREATE INDEX authorizations_agent ON authorizations(agent_key, created_at);
ALTER TABLE events ADD COLUMN affects_status INTEGER NOT NULL DEFAULT 1;
CREATE INDEX events_status_seq ON events(seq) WHERE affects_status = 1;
"#,
    // 4: relying institutions, their API keys and their sharing requests. `matters` is a JSON
    // array of strings. Requests are listed newest first (`created_at`, then `id`) per holder
    // and per institution; their events are uses (`affects_status = 0`).
    r#"
CREATE TABLE institutions (
    code TEXT PRIMARY KEY, name TEXT NOT NULL, area TEXT NOT NULL, matters TEXT NOT NULL,
    created_at INTEGER NOT NULL, disabled_at INTEGER
) WITHOUT ROWID;
CREATE TABLE institution_keys (
    id TEXT PRIMARY KEY, hash TEXT NOT NULL,
    institution TEXT NOT NULL REFERENCES institutions(code), label TEXT NOT NULL,
    created_at INTEGER NOT NULL, revoked_at INTEGER
) WITHOUT ROWID;
CREATE TABLE shares (
    id TEXT NOT NULL PRIMARY KEY, institution TEXT NOT NULL, staff TEXT NOT NULL,
    matter TEXT NOT NULL, purpose TEXT NOT NULL, identifier TEXT NOT NULL,
    lineage TEXT NOT NULL, holder_key TEXT NOT NULL, basis TEXT NOT NULL, state TEXT NOT NULL,
    created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, decided_at INTEGER, copy TEXT,
    copy_until INTEGER
);
CREATE INDEX shares_holder ON shares(holder_key, created_at DESC, id DESC);
CREATE INDEX shares_institution ON shares(institution, created_at DESC, id DESC);
"#,
    // 5: access bound to the holder. An authorization names the license holder who granted
    // it (filled from the version it was granted on) and may be ended by a transfer; a
    // presentation is stored when prepared (its device key and nonce chosen by the node),
    // completed once and opened once as a use.
    r#"
ALTER TABLE authorizations ADD COLUMN holder_key TEXT NOT NULL DEFAULT '';
ALTER TABLE authorizations ADD COLUMN ended_at INTEGER;
UPDATE authorizations SET holder_key =
    (SELECT l.holder_key FROM licenses l WHERE l.identifier = authorizations.identifier);
ALTER TABLE presentations ADD COLUMN jkt TEXT NOT NULL DEFAULT '';
ALTER TABLE presentations ADD COLUMN nonce TEXT NOT NULL DEFAULT '';
ALTER TABLE presentations ADD COLUMN completed_at INTEGER;
ALTER TABLE presentations ADD COLUMN opened_at INTEGER;
UPDATE presentations SET completed_at = created_at;
CREATE INDEX bindings_age ON bindings(identifier, created_at);
"#,
    // 6: a sharing request keeps the period the institution asked for in its own column;
    // `copy_until` is only ever the end of a granted copy's use (a pending request carried
    // the day count there before).
    r#"
ALTER TABLE shares ADD COLUMN keep_days INTEGER NOT NULL DEFAULT 30;
UPDATE shares SET keep_days = copy_until, copy_until = NULL WHERE state = 'pending';
UPDATE shares SET keep_days = MAX(1, (copy_until - decided_at + 86399) / 86400)
    WHERE state = 'granted' AND copy_until IS NOT NULL AND decided_at IS NOT NULL;
"#,
    // 7: wallet sessions (keyed by a hash of the cookie's secret) and failed sign-ins, shown to
    // the account's owner newest first.
    r#"
CREATE TABLE sessions (
    id TEXT PRIMARY KEY, account TEXT NOT NULL REFERENCES accounts(id),
    created_at INTEGER NOT NULL, last_seen INTEGER NOT NULL, ended_at INTEGER
) WITHOUT ROWID;
CREATE INDEX sessions_open ON sessions(account) WHERE ended_at IS NULL;
CREATE INDEX sessions_created ON sessions(created_at);
CREATE TABLE sign_in_failures (
    account TEXT NOT NULL REFERENCES accounts(id), at INTEGER NOT NULL, client TEXT NOT NULL,
    reason TEXT NOT NULL
);
CREATE INDEX sign_in_failures_account ON sign_in_failures(account, at DESC);
CREATE INDEX sign_in_failures_at ON sign_in_failures(at);
"#,
    // 8: leaf format 2: a lifecycle event's public reason category beside its free text, and the
    // openings of uses' commitments (salt, committed event bytes) by event.
    r#"
ALTER TABLE events ADD COLUMN reason_category TEXT;
CREATE TABLE log_openings (seq INTEGER PRIMARY KEY, salt BLOB NOT NULL, event BLOB NOT NULL);
"#,
    // 9: the region operator: its API keys (stored hashed), its events (numbered apart from
    // license events; their log rows carry `seq = -seq`, see `crate::log`) and the openings of
    // the committed ones (actions on an institution or an account).
    r#"
CREATE TABLE operator_keys (
    id TEXT PRIMARY KEY, hash TEXT NOT NULL, label TEXT NOT NULL, created_at INTEGER NOT NULL,
    revoked_at INTEGER
) WITHOUT ROWID;
CREATE TABLE operator_events (
    seq INTEGER PRIMARY KEY, action TEXT NOT NULL, subject TEXT NOT NULL, actor TEXT NOT NULL,
    at INTEGER NOT NULL, since INTEGER
);
CREATE TABLE operator_openings (seq INTEGER PRIMARY KEY, salt BLOB NOT NULL, event BLOB NOT NULL);
"#,
    // 10: the federation (`crate::federation`): the nodes this node knows, the replication
    // state of each child, the outbox of entries for the parent, the parent's acknowledgement,
    // the issuers children report, and the directory of the subtree's licenses (the `hub_*`
    // tables, as PostgreSQL has them since its migration 3).
    r#"
CREATE TABLE fed_nodes (
    url TEXT PRIMARY KEY, area TEXT NOT NULL, level TEXT NOT NULL, parent TEXT,
    document TEXT NOT NULL, via TEXT, updated_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE fed_children (
    child TEXT PRIMARY KEY, size INTEGER NOT NULL, peaks BLOB NOT NULL,
    forwarded_next INTEGER NOT NULL, checkpoint TEXT
) WITHOUT ROWID;
CREATE TABLE fed_outbox (
    seq INTEGER PRIMARY KEY, origin TEXT NOT NULL, idx INTEGER NOT NULL,
    identifier TEXT NOT NULL, lineage TEXT NOT NULL, version INTEGER NOT NULL,
    type_code TEXT NOT NULL, issuer TEXT NOT NULL, kind TEXT NOT NULL, status TEXT NOT NULL,
    at INTEGER NOT NULL, holder_key BLOB NOT NULL, UNIQUE (origin, idx)
);
CREATE TABLE fed_issuers (code TEXT PRIMARY KEY, node TEXT NOT NULL, document TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE fed_push (
    id INTEGER PRIMARY KEY CHECK (id = 1), log_size INTEGER NOT NULL, forwarded_next INTEGER NOT NULL
);
CREATE TABLE hub_licenses (
    lineage TEXT NOT NULL, version INTEGER NOT NULL, identifier TEXT NOT NULL,
    type_code TEXT NOT NULL, issuer TEXT NOT NULL, status TEXT NOT NULL, node TEXT NOT NULL,
    holder_key BLOB NOT NULL, updated_at INTEGER NOT NULL, log_index INTEGER NOT NULL,
    kind TEXT NOT NULL, PRIMARY KEY (lineage, version)
) WITHOUT ROWID;
CREATE TABLE hub_status_changes (
    lineage TEXT NOT NULL, version INTEGER NOT NULL, seq INTEGER NOT NULL, status TEXT NOT NULL,
    at INTEGER NOT NULL, PRIMARY KEY (lineage, version, seq)
) WITHOUT ROWID;
CREATE TABLE hub_holders (
    holder_key BLOB NOT NULL, lineage TEXT NOT NULL, PRIMARY KEY (holder_key, lineage)
) WITHOUT ROWID;
"#,
    // 11: witnessing (C2SP tlog-witness): the logs this node co-signs as a parent, each with the
    // head it last co-signed (one row, swapped atomically), the forks it saw, and this node's
    // own checkpoints co-signed by its parent.
    r#"
CREATE TABLE witness_logs (
    origin TEXT PRIMARY KEY, vkeys TEXT NOT NULL, url TEXT NOT NULL,
    size INTEGER NOT NULL DEFAULT 0, root BLOB, checkpoint TEXT,
    admitted_at INTEGER NOT NULL, updated_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE witness_forks (
    id INTEGER PRIMARY KEY, origin TEXT NOT NULL, kind TEXT NOT NULL,
    cosigned_size INTEGER NOT NULL, cosigned_root BLOB NOT NULL, checkpoint TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE TABLE cosigned_checkpoints (
    size INTEGER PRIMARY KEY, note TEXT NOT NULL, created_at INTEGER NOT NULL
);
"#,
    // 12: the trust list (`crate::trust`): an issuing authority's successor and end, the
    // hub's mutual-recognition lists and the number of the last trust list it published.
    r#"
ALTER TABLE issuers ADD COLUMN successor TEXT;
ALTER TABLE issuers ADD COLUMN ended_at INTEGER;
CREATE TABLE recognition_lists (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, areas TEXT NOT NULL, types TEXT NOT NULL,
    updated_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE trust_publication (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL);
"#,
    // 13: OpenID Connect sign-in (`crate::oidc`): authorization requests under way (taken
    // once, purged by expiry) and the link of a provider's subject to its account.
    r#"
CREATE TABLE oidc_logins (
    id TEXT PRIMARY KEY, binding TEXT NOT NULL, nonce TEXT NOT NULL, verifier TEXT NOT NULL,
    next TEXT NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX oidc_logins_expiry ON oidc_logins(expires_at);
CREATE TABLE oidc_links (
    issuer TEXT NOT NULL, subject TEXT NOT NULL,
    account TEXT NOT NULL UNIQUE REFERENCES accounts(id), created_at INTEGER NOT NULL,
    PRIMARY KEY (issuer, subject)
) WITHOUT ROWID;
"#,
    // 14: the legal representative of an enterprise holder (keyed hash of their resident ID),
    // found by `represented_by`.
    r#"
ALTER TABLE licenses ADD COLUMN representative_key TEXT;
CREATE INDEX licenses_representative ON licenses (representative_key)
    WHERE representative_key IS NOT NULL;
"#,
    // 15: relying institutions' staff (`InstitutionStore::put_staff`).
    r#"
CREATE TABLE staff (
    institution TEXT NOT NULL REFERENCES institutions(code), username TEXT NOT NULL,
    name TEXT NOT NULL, matters TEXT NOT NULL, created_at INTEGER NOT NULL,
    disabled_at INTEGER, PRIMARY KEY (institution, username)
) WITHOUT ROWID;
"#,
    // 16: a status list's algorithm: the lists of an issuer are per algorithm, each signed
    // with the issuer's key of that algorithm, so a verifier that knows a credential's
    // algorithm can check its status. Lists made before stay without one (NULL: signed as
    // before) and get no new slots.
    r#"
ALTER TABLE status_lists ADD COLUMN alg TEXT;
CREATE INDEX status_lists_issuer_alg ON status_lists(issuer, alg, id);
"#,
    // 17: institutions' forms (免填报, `InstitutionStore::put_form`).
    r#"
CREATE TABLE forms (
    institution TEXT NOT NULL REFERENCES institutions(code), matter TEXT NOT NULL,
    fields TEXT NOT NULL, updated_at INTEGER NOT NULL, PRIMARY KEY (institution, matter)
) WITHOUT ROWID;
"#,
    // 18: OpenID4VP presentation requests (`PresentationRequestStore`).
    r#"
CREATE TABLE vp_requests (
    id TEXT PRIMARY KEY, institution TEXT NOT NULL REFERENCES institutions(code),
    staff TEXT NOT NULL, matter TEXT NOT NULL, purpose TEXT NOT NULL,
    keep_days INTEGER NOT NULL, response_mode TEXT NOT NULL, nonce TEXT NOT NULL,
    state TEXT NOT NULL, webhook TEXT, created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL, fetched_at INTEGER, answered_at INTEGER, outcome TEXT,
    share TEXT, webhook_attempts INTEGER NOT NULL DEFAULT 0, webhook_done_at INTEGER
) WITHOUT ROWID;
CREATE INDEX vp_requests_institution ON vp_requests(institution, created_at);
CREATE INDEX vp_requests_webhooks ON vp_requests(answered_at)
    WHERE webhook IS NOT NULL AND webhook_done_at IS NULL AND answered_at IS NOT NULL;
"#,
    // 19: staff who sign in: the keyed hash of the person's resident ID
    // (`InstitutionStore::staff_by_person`).
    r#"
ALTER TABLE staff ADD COLUMN person_key TEXT;
CREATE INDEX staff_person ON staff(person_key) WHERE person_key IS NOT NULL;
"#,
    // 20: OpenID4VCI credential offers and nonces (`crate::vci`): secrets kept as hashes, an
    // offer found by its code or its access token, both purged by expiry.
    r#"
CREATE TABLE vci_offers (
    id TEXT PRIMARY KEY, identifier TEXT NOT NULL, actor TEXT NOT NULL, tx_code TEXT NOT NULL,
    failures INTEGER NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,
    token TEXT UNIQUE, token_expires_at INTEGER, redeemed_at INTEGER
) WITHOUT ROWID;
CREATE INDEX vci_offers_expiry ON vci_offers(expires_at);
CREATE TABLE vci_nonces (nonce TEXT PRIMARY KEY, expires_at INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX vci_nonces_expiry ON vci_nonces(expires_at);
"#,
    // 21: presentation requests addressed to a person (一码通,
    // `PresentationRequestStore::vp_requests_for_holders`).
    r#"
ALTER TABLE vp_requests ADD COLUMN holder_key TEXT;
CREATE INDEX vp_requests_holder ON vp_requests(holder_key)
    WHERE holder_key IS NOT NULL AND answered_at IS NULL;
"#,
    // 22: electronic seals (`crate::seals`): the node's seal CAs (one per algorithm), the
    // seals filed with it and every use of one. `seals.users` is a JSON array of usernames,
    // as `institutions.matters` is. `seal_uses.seq` is the rowid: rows are never deleted, so
    // it only grows. `seals_inactive` serves the CA's revocation list (few rows).
    r#"
CREATE TABLE seal_cas (
    alg TEXT PRIMARY KEY, encrypted_pem TEXT NOT NULL, certificate BLOB NOT NULL,
    created_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE seals (
    id TEXT PRIMARY KEY, owner TEXT NOT NULL, owner_name TEXT NOT NULL, kind TEXT NOT NULL,
    name TEXT NOT NULL, alg TEXT NOT NULL, encrypted_pem TEXT NOT NULL,
    certificate BLOB NOT NULL, serial TEXT NOT NULL, seal BLOB NOT NULL, picture BLOB NOT NULL,
    valid_from INTEGER NOT NULL, valid_to INTEGER NOT NULL, status TEXT NOT NULL,
    status_at INTEGER NOT NULL, license TEXT, users TEXT NOT NULL,
    created_at INTEGER NOT NULL, created_by TEXT NOT NULL, UNIQUE (alg, serial)
);
CREATE INDEX seals_owner ON seals(owner, created_at);
CREATE INDEX seals_license ON seals(license, created_at) WHERE license IS NOT NULL;
CREATE INDEX seals_inactive ON seals(alg, status_at) WHERE status <> 'active';
CREATE TABLE seal_uses (
    seq INTEGER PRIMARY KEY, seal TEXT NOT NULL REFERENCES seals(id), at INTEGER NOT NULL,
    actor TEXT NOT NULL, document TEXT NOT NULL, page INTEGER NOT NULL, purpose TEXT NOT NULL
);
CREATE INDEX seal_uses_seal ON seal_uses(seal, seq);
"#,
    // 23: issuer keys certified by an outside CA (`SealStore::put_key_certificate`): the
    // chain is the DER certificates, each prefixed by its length as 4 big-endian bytes.
    r#"
CREATE TABLE key_certificates (
    kid TEXT PRIMARY KEY, chain BLOB NOT NULL, subject TEXT NOT NULL, issuer TEXT NOT NULL,
    serial TEXT NOT NULL, not_after INTEGER NOT NULL, attached_at INTEGER NOT NULL,
    attached_by TEXT NOT NULL
) WITHOUT ROWID;
"#,
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: usize = MIGRATIONS.len();

/// Brings the database up to `SCHEMA_VERSION`; refuses a database from a newer build.
pub fn migrate(conn: &mut Connection) -> Result<usize> {
    let current: usize =
        conn.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))? as usize;
    if current > SCHEMA_VERSION {
        return Err(crate::StoreError::Unavailable(format!(
            "database schema version {current} is newer than this build ({SCHEMA_VERSION})"
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(SCHEMA_VERSION)
}
