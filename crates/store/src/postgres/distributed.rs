//! A province's store on a Citus cluster (`PgOptions::distributed`, `?distributed=true`):
//! the tables that grow with the licenses are spread over the workers, everything else stays
//! a local table of the coordinator.
//!
//! Layout after [`distribute`]:
//! - `licenses` and `events` are hash-distributed by `lineage` in one co-location group: a
//!   license's versions and its history are on one shard, so a transition's UPDATE, its event
//!   and a lookup of a lineage are single-shard statements;
//! - `license_ids` by `identifier` and `license_slots` by `status_list`: their primary keys
//!   (the uniqueness they exist for) contain the distribution column, as Citus requires;
//! - the transparency log (`log_*`), serials, status lists, catalogue, issuers, keys, wallet,
//!   institutions, operator and federation tables stay local on the coordinator. No store query
//!   joins them with a distributed table, so none needs to be a reference table (a reference
//!   table would make every catalogue or key write a two-phase commit over all workers).
//!
//! The four tables lose their 16 hash partitions: on a cluster the shards already split them
//! by the same key, and 16 partitions in every shard would multiply the tables a worker holds
//! (and the time to create a schema) by 17 for nothing. The shard count is the session's
//! `citus.shard_count` (the database's setting, default 32; a URL may set
//! `options=-c citus.shard_count=N`).
//!
//! Every write stays one transaction: Citus commits the shards' part with two-phase commit
//! and the coordinator's own tables (the log append) in the coordinator's commit, so a license,
//! its claims, its event and its log entry still commit together or not at all. `events_seq`
//! is drawn on the coordinator (Citus evaluates `nextval` there before it routes an INSERT),
//! so sequence numbers keep their single order.
//!
//! Distribution is an explicit choice, not automatic when `citus` is installed (as the hub
//! index is): it moves every license row, it changes which statements the store sends (see
//! [`Layout`]), and a store on a coordinator (the hub's own node) is usually small. Once a
//! schema is distributed it stays so: every store that opens it uses the distributed layout,
//! whatever its options say.

use tokio_postgres::Transaction;

use crate::error::{Result, StoreError};

/// Which statements the store sends for the license tables: found at migration from Citus'
/// catalog, so that every store on one schema agrees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Layout {
    /// Plain PostgreSQL (or a Citus coordinator's local tables): hash partitions, lookups
    /// through `license_ids` in one statement, multi-row writes as `unnest` arrays.
    Partitioned,
    /// Citus: a lookup by identifier is two single-shard statements (the claim row, then the
    /// license by its primary key), events name their lineage, multi-row writes are `VALUES`
    /// lists (Citus splits them by shard over its pooled connections; `INSERT .. SELECT
    /// unnest(..)` goes through the coordinator with a connection per shard).
    Distributed,
}

/// Rebuilds the four tables as plain tables (same columns, defaults, constraints and index
/// names; rows copied) and distributes them. Runs in the migration's transaction, after the
/// migrations, so it sees each table's final columns; a schema that already has rows moves
/// them to the workers in that transaction.
const DISTRIBUTE: &str = r#"
DO $$
DECLARE
    t text;
    d text;
    defs text[];
    r record;
BEGIN
    -- As in HUB_INDEX: tables created in this transaction are distributed over one
    -- connection per worker.
    SET LOCAL citus.multi_shard_modify_mode TO 'sequential';
    FOREACH t IN ARRAY ARRAY['licenses', 'events', 'license_ids', 'license_slots'] LOOP
        defs := ARRAY[]::text[];
        FOR r IN SELECT c.conname, pg_get_constraintdef(c.oid) AS con,
                        pg_get_indexdef(i.indexrelid) AS idx
                 FROM pg_index i
                 LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.conrelid = i.indrelid
                 WHERE i.indrelid = t::regclass LOOP
            IF r.conname IS NOT NULL THEN
                defs := defs || format('ALTER TABLE %I ADD CONSTRAINT %I %s', t, r.conname, r.con);
            ELSE
                defs := defs || replace(r.idx, ' ON ONLY ', ' ON ');
            END IF;
        END LOOP;
        EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS '
                       'INCLUDING STORAGE INCLUDING COMPRESSION)', t || '_flat', t);
        EXECUTE format('INSERT INTO %I SELECT * FROM %I', t || '_flat', t);
        EXECUTE format('DROP TABLE %I', t);
        EXECUTE format('ALTER TABLE %I RENAME TO %I', t || '_flat', t);
        FOREACH d IN ARRAY defs LOOP
            EXECUTE d;
        END LOOP;
    END LOOP;
    -- Migration 6's reason holds for each shard: a credential stays in its heap page.
    ALTER TABLE licenses SET (toast_tuple_target = 8160);
    PERFORM create_distributed_table('licenses', 'lineage', colocate_with => 'none');
    PERFORM create_distributed_table('events', 'lineage', colocate_with => 'licenses');
    PERFORM create_distributed_table('license_ids', 'identifier', colocate_with => 'none');
    PERFORM create_distributed_table('license_slots', 'status_list', colocate_with => 'none');
    FOREACH t IN ARRAY ARRAY['licenses', 'events', 'license_ids', 'license_slots'] LOOP
        PERFORM truncate_local_data_after_distributing_table(t::regclass);
    END LOOP;
END $$;
"#;

/// Whether `licenses` of the transaction's schema is a Citus table.
pub(super) async fn layout(tx: &Transaction<'_>) -> Result<Layout> {
    let citus = tx
        .query_one(
            "SELECT to_regclass('pg_catalog.pg_dist_partition') IS NOT NULL",
            &[],
        )
        .await?
        .try_get::<_, bool>(0)?;
    if !citus {
        return Ok(Layout::Partitioned);
    }
    let distributed: bool = tx
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_dist_partition \
             WHERE logicalrelid = 'licenses'::regclass)",
            &[],
        )
        .await?
        .try_get(0)?;
    Ok(if distributed {
        Layout::Distributed
    } else {
        Layout::Partitioned
    })
}

/// Distributes the schema's license tables unless they are already; fails with
/// `store.unavailable` when the database has no `citus` extension.
pub(super) async fn distribute(tx: &Transaction<'_>) -> Result<Layout> {
    if layout(tx).await? == Layout::Distributed {
        return Ok(Layout::Distributed);
    }
    let citus = tx
        .query_opt("SELECT 1 FROM pg_extension WHERE extname = 'citus'", &[])
        .await?
        .is_some();
    if !citus {
        return Err(StoreError::Unavailable(
            "distributed=true needs a Citus coordinator: the database has no citus extension"
                .into(),
        ));
    }
    tx.batch_execute(DISTRIBUTE).await?;
    Ok(Layout::Distributed)
}
