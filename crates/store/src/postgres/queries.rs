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
            "updated_at"
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
