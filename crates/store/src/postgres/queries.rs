//! The hot read queries, as the store prepares them. Public so that tests (and operators)
//! can `EXPLAIN` exactly what runs; each must be served by an index (see `schema`).

macro_rules! license_columns {
    ($p:literal) => {
        concat!(
            $p,
            "identifier, ",
            $p,
            "lineage, ",
            $p,
            "version, ",
            $p,
            "type_code, ",
            $p,
            "catalogue_version, ",
            $p,
            "issuer, ",
            $p,
            "holder_key, ",
            $p,
            "status, ",
            $p,
            "status_value, ",
            $p,
            "pledged, ",
            $p,
            "meta, ",
            $p,
            "credential, ",
            $p,
            "alg, ",
            $p,
            "kid, ",
            $p,
            "status_list, ",
            $p,
            "status_idx, ",
            $p,
            "issued_at, ",
            $p,
            "valid_until, ",
            $p,
            "updated_at, ",
            $p,
            "representative_key"
        )
    };
}
pub(super) use license_columns;

/// The condition that finds the license version named by an identifier (the SQL expression
/// `$id`) through its `license_ids` claim row: see [`LICENSE`].
macro_rules! route {
    ($id:literal) => {
        concat!(
            "(lineage, version) = (SELECT lineage, version FROM license_ids WHERE identifier = ",
            $id,
            ")"
        )
    };
}
pub(super) use route;

/// One license version by identifier (`$1` text). The `license_ids` claim row gives its
/// primary key `(lineage, version)` (an index-only probe), so the executor prunes `licenses`
/// to the one partition that holds it and probes that partition's primary key (a join would
/// not prune: the planner derives `l.identifier = $1` and probes every partition). The
/// identifier is checked again on the row it finds.
pub const LICENSE: &str = concat!(
    "SELECT ",
    license_columns!(""),
    " FROM licenses WHERE ",
    route!("$1"),
    " AND identifier = $1"
);

/// The claim row of an identifier (`$1` text): its license's primary key. On a Citus cluster
/// a lookup by identifier is this, then [`LICENSE_BY_KEY`]: two single-shard statements
/// (`license_ids` is distributed by identifier, `licenses` by lineage, so the one-statement
/// [`LICENSE`] would visit every shard of `licenses`).
pub const CLAIM: &str = "SELECT lineage, version FROM license_ids WHERE identifier = $1";

/// One license version by primary key (`$1` lineage, `$2` version) and identifier (`$3`).
pub const LICENSE_BY_KEY: &str = concat!(
    "SELECT ",
    license_columns!(""),
    " FROM licenses WHERE lineage = $1 AND version = $2 AND identifier = $3"
);

/// The metadata of many versions by identifier (`$1` text[]): for each identifier, the
/// [`LICENSE`] probe (its `license_ids` claim row, then the primary key of the one partition
/// that holds the version). `LIMIT 1` keeps the planner from pulling the probe up into a
/// hash join, which on a small store scanned every partition.
pub const METAS: &str = concat!(
    "SELECT l.identifier, l.meta FROM unnest($1::text[]) AS k(id), LATERAL \
     (SELECT identifier, meta FROM licenses WHERE ",
    route!("k.id"),
    " AND identifier = k.id LIMIT 1) l"
);

/// The lineages of many identifiers (`$1` text[]) from their claim rows (a Citus cluster).
pub const CLAIMS: &str = "SELECT DISTINCT lineage FROM license_ids WHERE identifier = ANY($1)";

/// The metadata of the versions named (`$2` text[]) among the lineages `$1` (text[]; a Citus
/// cluster: the lineages prune the shards).
pub const METAS_BY_LINEAGE: &str =
    "SELECT identifier, meta FROM licenses WHERE lineage = ANY($1) AND identifier = ANY($2)";

/// Every version of a lineage (`$1` text), oldest first.
pub const VERSIONS: &str = concat!(
    "SELECT ",
    license_columns!(""),
    " FROM licenses WHERE lineage = $1 ORDER BY version"
);

/// Licenses of one holder (`$1` keyed hash), newest first.
pub const BY_HOLDER: &str = concat!(
    "SELECT ",
    license_columns!(""),
    " FROM licenses WHERE holder_key = $1 ORDER BY issued_at DESC, identifier"
);

/// Versions naming a legal representative (`$1` keyed hash) that are not superseded, newest
/// first.
pub const REPRESENTED_BY: &str = concat!(
    "SELECT ",
    license_columns!(""),
    " FROM licenses WHERE representative_key = $1 AND status <> 'superseded' \
     ORDER BY issued_at DESC, identifier"
);

/// Non-valid slots of one status list (`$1` bigint).
pub const NON_VALID: &str = "SELECT status_idx, status_value FROM licenses \
    WHERE status_list = $1 AND status_value <> 0";

/// Live licenses whose validity ended before `$1`, at most `$2`.
pub const EXPIRING: &str = "SELECT identifier FROM licenses \
    WHERE status IN ('valid', 'suspended') AND valid_until IS NOT NULL AND valid_until < $1 \
    ORDER BY valid_until LIMIT $2";

/// Events of a lineage (`$1` text), in order.
pub const EVENTS: &str = "SELECT seq, identifier, kind, actor, at, reason, detail, \
    reason_category FROM events WHERE lineage = $1 ORDER BY seq";

/// The status epoch: the last event that may change a status (uses and authorizations do
/// not); a backward probe of the partial index `events_status_seq` per partition.
pub const STATUS_EPOCH: &str = "SELECT COALESCE(max(seq), 0) FROM events WHERE affects_status";
