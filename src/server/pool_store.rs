//! Durable state of the eleven pool-level and push-sync operations (spec §11), in the same
//! SQLite database as the datasets: sync-session counts, configurations, Cognito events,
//! devices, subscriptions and bulk publishes. Every change is one transaction, so a refused
//! request changes nothing.

use std::collections::BTreeMap;

use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::fault::Fault;
use super::rejection::Rejection;
use super::store::{ImmediateTx, Store, StoredRecord};

/// `PushSync` of a pool's configuration, as stored and answered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PushSync {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_arns: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
}

/// `CognitoStreams` of a pool's configuration, as stored and answered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CognitoStreams {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub streaming_status: Option<String>,
}

/// A pool's stored configuration; `None` sections were never set (or were cleared).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PoolConfig {
    pub push_sync: Option<PushSync>,
    pub cognito_streams: Option<CognitoStreams>,
}

/// A pool's usage as DescribeIdentityPoolUsage reports it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolUsage {
    pub sync_sessions: i64,
    pub data_storage: i64,
    /// The latest write or delete of any of the pool's identities; `None` if none ever wrote.
    pub last_modified_ms: Option<i64>,
}

/// A registered device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub device_id: String,
    pub platform: String,
    pub token: String,
}

/// A pool's latest bulk publish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BulkPublishRow {
    pub start_ms: i64,
    /// When it is (or will be) done; `None` never (the bulk-publish-never-completes fault).
    pub complete_ms: Option<i64>,
}

/// One live dataset of a pool with every record, for a bulk publish's stream records.
#[derive(Debug, Clone, PartialEq)]
pub struct PublishedDataset {
    pub identity: String,
    pub name: String,
    pub sync_count: i64,
    pub last_modified_ms: i64,
    pub records: Vec<StoredRecord>,
}

fn json_column<T: serde::de::DeserializeOwned>(
    text: Option<String>,
) -> rusqlite::Result<Option<T>> {
    text.map(|t| {
        serde_json::from_str(&t).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
        })
    })
    .transpose()
}

fn json_text<T: Serialize>(value: Option<&T>) -> Result<Option<String>, Rejection> {
    value
        .map(|v| {
            serde_json::to_string(v)
                .map_err(|e| Rejection::internal(format!("cannot encode configuration: {e}")))
        })
        .transpose()
}

fn read_config(conn: &Connection, pool: &str) -> rusqlite::Result<PoolConfig> {
    let row: Option<(Option<String>, Option<String>)> = conn
        .prepare_cached("SELECT push_sync, cognito_streams FROM pool_config WHERE pool = ?1")?
        .query_row(params![pool], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((push, streams)) = row else {
        return Ok(PoolConfig::default());
    };
    Ok(PoolConfig {
        push_sync: json_column(push)?,
        cognito_streams: json_column(streams)?,
    })
}

fn read_events(conn: &Connection, pool: &str) -> rusqlite::Result<BTreeMap<String, String>> {
    conn.prepare_cached("SELECT event, arn FROM pool_events WHERE pool = ?1 ORDER BY event")?
        .query_map(params![pool], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect()
}

impl Store {
    /// Counts one sync session (a SyncSessionToken issued) for the pool (POOL-1).
    pub fn count_sync_session(&self, pool: &str) -> Result<(), Rejection> {
        self.lock()
            .prepare_cached(
                "INSERT INTO pool_sessions (pool, count) VALUES (?1, 1)
                 ON CONFLICT (pool) DO UPDATE SET count = count + 1",
            )?
            .execute(params![pool])?;
        Ok(())
    }

    /// The pool's usage, from the datasets actually stored (POOL-1).
    pub fn pool_usage(&self, pool: &str) -> Result<PoolUsage, Rejection> {
        let conn = self.lock();
        Ok(self.pool_usage_locked(&conn, pool)?)
    }

    fn pool_usage_locked(&self, conn: &Connection, pool: &str) -> rusqlite::Result<PoolUsage> {
        let sync_sessions: i64 = conn
            .prepare_cached("SELECT count FROM pool_sessions WHERE pool = ?1")?
            .query_row(params![pool], |r| r.get(0))
            .optional()?
            .unwrap_or(0);
        let last_modified_ms: Option<i64> = conn
            .prepare_cached("SELECT max(last_modified_ms) FROM identities WHERE pool = ?1")?
            .query_row(params![pool], |r| r.get(0))?;
        let data_storage: i64 = if self.fault_is(Fault::PoolUsageOneIdentity) {
            // Only the identity that wrote last is counted.
            conn.prepare_cached(
                "SELECT coalesce(sum(data_storage), 0) FROM datasets
                 WHERE pool = ?1 AND live = 1 AND identity =
                     (SELECT identity FROM identities WHERE pool = ?1
                      ORDER BY last_modified_ms DESC, identity DESC LIMIT 1)",
            )?
            .query_row(params![pool], |r| r.get(0))?
        } else {
            // Under the pool-usage-ignores-deletes fault a deleted dataset keeps its figure.
            conn.prepare_cached(
                "SELECT coalesce(sum(data_storage), 0) FROM datasets
                 WHERE pool = ?1 AND (live = 1 OR ?2)",
            )?
            .query_row(
                params![pool, self.fault_is(Fault::PoolUsageIgnoresDeletes)],
                |r| r.get(0),
            )?
        };
        Ok(PoolUsage {
            sync_sessions,
            data_storage,
            last_modified_ms,
        })
    }

    /// Up to `limit + 1` pools that hold data (an identity of theirs wrote), named after
    /// `after`, by name, each with its usage (POOL-2).
    pub fn list_pool_usage(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(String, PoolUsage)>, Rejection> {
        let conn = self.lock();
        let fetch = i64::try_from(limit.saturating_add(1)).unwrap_or(i64::MAX);
        let pools: Vec<String> = conn
            .prepare_cached(
                "SELECT DISTINCT pool FROM identities WHERE pool > ?1 ORDER BY pool LIMIT ?2",
            )?
            .query_map(params![after.unwrap_or(""), fetch], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let mut out = Vec::with_capacity(pools.len());
        for pool in pools {
            let usage = self.pool_usage_locked(&conn, &pool)?;
            out.push((pool, usage));
        }
        Ok(out)
    }

    /// Whether anything at all is stored for the pool (the pool-empty-404 variant).
    pub fn pool_known(&self, pool: &str) -> Result<bool, Rejection> {
        let conn = self.lock();
        Ok(conn
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM identities WHERE pool = ?1)
                     OR EXISTS (SELECT 1 FROM pool_sessions WHERE pool = ?1)
                     OR EXISTS (SELECT 1 FROM pool_config WHERE pool = ?1)
                     OR EXISTS (SELECT 1 FROM pool_events WHERE pool = ?1)
                     OR EXISTS (SELECT 1 FROM devices WHERE pool = ?1)
                     OR EXISTS (SELECT 1 FROM bulk_publish WHERE pool = ?1)",
            )?
            .query_row(params![pool], |r| r.get(0))?)
    }

    pub fn pool_config(&self, pool: &str) -> Result<PoolConfig, Rejection> {
        Ok(read_config(&self.lock(), pool)?)
    }

    /// Reads the pool's configuration, lets `change` edit it, stores the result and returns
    /// it; all in one transaction.
    pub fn update_pool_config(
        &self,
        pool: &str,
        change: impl FnOnce(&mut PoolConfig),
    ) -> Result<PoolConfig, Rejection> {
        let conn = self.lock();
        let tx = ImmediateTx::begin(&conn)?;
        let mut config = read_config(&tx, pool)?;
        change(&mut config);
        tx.prepare_cached(
            "INSERT INTO pool_config (pool, push_sync, cognito_streams) VALUES (?1, ?2, ?3)
             ON CONFLICT (pool) DO UPDATE
                 SET push_sync = excluded.push_sync, cognito_streams = excluded.cognito_streams",
        )?
        .execute(params![
            pool,
            json_text(config.push_sync.as_ref())?,
            json_text(config.cognito_streams.as_ref())?
        ])?;
        tx.commit()?;
        Ok(config)
    }

    pub fn events(&self, pool: &str) -> Result<BTreeMap<String, String>, Rejection> {
        Ok(read_events(&self.lock(), pool)?)
    }

    /// The pool's SyncTrigger function, if one is set (EVT-2).
    pub fn sync_trigger(&self, pool: &str) -> Result<Option<String>, Rejection> {
        Ok(self
            .lock()
            .prepare_cached("SELECT arn FROM pool_events WHERE pool = ?1 AND event = ?2")?
            .query_row(params![pool, crate::spec::SYNC_TRIGGER_EVENT], |r| r.get(0))
            .optional()?)
    }

    /// Reads the pool's events, lets `change` edit them and stores the result, in one
    /// transaction.
    pub fn set_events(
        &self,
        pool: &str,
        change: impl FnOnce(&mut BTreeMap<String, String>),
    ) -> Result<(), Rejection> {
        let conn = self.lock();
        let tx = ImmediateTx::begin(&conn)?;
        let mut events = read_events(&tx, pool)?;
        change(&mut events);
        tx.prepare_cached("DELETE FROM pool_events WHERE pool = ?1")?
            .execute(params![pool])?;
        {
            let mut insert = tx
                .prepare_cached("INSERT INTO pool_events (pool, event, arn) VALUES (?1, ?2, ?3)")?;
            for (event, arn) in &events {
                insert.execute(params![pool, event, arn])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Registers a device and returns its id: the id already given to the same (identity,
    /// platform, token) unless `fresh_each_time` (AMB-DEVICE-ID), else `new_id`.
    pub fn register_device(
        &self,
        pool: &str,
        identity: &str,
        platform: &str,
        token: &str,
        new_id: String,
        fresh_each_time: bool,
    ) -> Result<String, Rejection> {
        let conn = self.lock();
        let tx = ImmediateTx::begin(&conn)?;
        if !fresh_each_time {
            let known: Option<String> = tx
                .prepare_cached(
                    "SELECT device_id FROM devices
                     WHERE pool = ?1 AND identity = ?2 AND platform = ?3 AND token = ?4
                     ORDER BY device_id LIMIT 1",
                )?
                .query_row(params![pool, identity, platform, token], |r| r.get(0))
                .optional()?;
            if let Some(known) = known {
                return Ok(known);
            }
        }
        tx.prepare_cached(
            "INSERT INTO devices (device_id, pool, identity, platform, token)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![new_id, pool, identity, platform, token])?;
        tx.commit()?;
        Ok(new_id)
    }

    /// Whether `device_id` was registered for this identity.
    pub fn device_registered(
        &self,
        pool: &str,
        identity: &str,
        device_id: &str,
    ) -> Result<bool, Rejection> {
        Ok(self
            .lock()
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM devices
                     WHERE device_id = ?1 AND pool = ?2 AND identity = ?3)",
            )?
            .query_row(params![device_id, pool, identity], |r| r.get(0))?)
    }

    /// Subscribes (`true`) or unsubscribes a device; returns whether anything changed.
    pub fn set_subscription(&self, key: [&str; 4], subscribed: bool) -> Result<bool, Rejection> {
        let conn = self.lock();
        let sql = if subscribed {
            "INSERT OR IGNORE INTO subscriptions (pool, identity, dataset, device_id)
             VALUES (?1, ?2, ?3, ?4)"
        } else {
            "DELETE FROM subscriptions
             WHERE pool = ?1 AND identity = ?2 AND dataset = ?3 AND device_id = ?4"
        };
        let changed = conn
            .prepare_cached(sql)?
            .execute(params![key[0], key[1], key[2], key[3]])?;
        Ok(changed > 0)
    }

    /// The devices subscribed to a dataset, by id.
    pub fn subscribers(
        &self,
        pool: &str,
        identity: &str,
        dataset: &str,
    ) -> Result<Vec<Device>, Rejection> {
        Ok(self
            .lock()
            .prepare_cached(
                "SELECT d.device_id, d.platform, d.token
                 FROM subscriptions s JOIN devices d ON d.device_id = s.device_id
                 WHERE s.pool = ?1 AND s.identity = ?2 AND s.dataset = ?3
                 ORDER BY d.device_id",
            )?
            .query_map(params![pool, identity, dataset], |r| {
                Ok(Device {
                    device_id: r.get(0)?,
                    platform: r.get(1)?,
                    token: r.get(2)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?)
    }

    /// The dataset's counter, live or deleted (a deleted dataset keeps it); 0 if never written.
    pub fn dataset_sync_count(
        &self,
        pool: &str,
        identity: &str,
        dataset: &str,
    ) -> Result<i64, Rejection> {
        Ok(self
            .lock()
            .prepare_cached(
                "SELECT sync_count FROM datasets WHERE pool = ?1 AND identity = ?2 AND name = ?3",
            )?
            .query_row(params![pool, identity, dataset], |r| r.get(0))
            .optional()?
            .unwrap_or(0))
    }

    pub fn bulk_publish(&self, pool: &str) -> Result<Option<BulkPublishRow>, Rejection> {
        Ok(read_bulk(&self.lock(), pool)?)
    }

    /// Starts a bulk publish if `allow` accepts the latest one, in one transaction.
    pub fn start_bulk_publish(
        &self,
        pool: &str,
        next: BulkPublishRow,
        allow: impl FnOnce(Option<BulkPublishRow>) -> Result<(), Rejection>,
    ) -> Result<(), Rejection> {
        let conn = self.lock();
        let tx = ImmediateTx::begin(&conn)?;
        allow(read_bulk(&tx, pool)?)?;
        tx.prepare_cached(
            "INSERT INTO bulk_publish (pool, start_ms, complete_ms) VALUES (?1, ?2, ?3)
             ON CONFLICT (pool) DO UPDATE
                 SET start_ms = excluded.start_ms, complete_ms = excluded.complete_ms",
        )?
        .execute(params![pool, next.start_ms, next.complete_ms])?;
        tx.commit()?;
        Ok(())
    }

    /// Every live dataset of the pool with all its records, tombstones included.
    pub fn pool_datasets(&self, pool: &str) -> Result<Vec<PublishedDataset>, Rejection> {
        let conn = self.lock();
        let rows: Vec<(i64, String, String, i64, i64)> = conn
            .prepare_cached(
                "SELECT id, identity, name, sync_count, last_modified_ms FROM datasets
                 WHERE pool = ?1 AND live = 1 ORDER BY identity, name",
            )?
            .query_map(params![pool], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })?
            .collect::<rusqlite::Result<_>>()?;
        let mut out = Vec::with_capacity(rows.len());
        let mut records = conn.prepare_cached(
            "SELECT key, value, sync_count, last_modified_ms, last_modified_by,
                 device_last_modified
             FROM records WHERE dataset_id = ?1 ORDER BY sync_count, key",
        )?;
        for (id, identity, name, sync_count, last_modified_ms) in rows {
            let records = records
                .query_map(params![id], |r| {
                    Ok(StoredRecord {
                        key: r.get(0)?,
                        value: r.get(1)?,
                        sync_count: r.get(2)?,
                        last_modified_ms: r.get(3)?,
                        last_modified_by: r.get(4)?,
                        device_last_modified: r.get(5)?,
                    })
                })?
                .collect::<rusqlite::Result<_>>()?;
            out.push(PublishedDataset {
                identity,
                name,
                sync_count,
                last_modified_ms,
                records,
            });
        }
        Ok(out)
    }
}

fn read_bulk(conn: &Connection, pool: &str) -> rusqlite::Result<Option<BulkPublishRow>> {
    conn.prepare_cached("SELECT start_ms, complete_ms FROM bulk_publish WHERE pool = ?1")?
        .query_row(params![pool], |r| {
            Ok(BulkPublishRow {
                start_ms: r.get(0)?,
                complete_ms: r.get(1)?,
            })
        })
        .optional()
}

impl Store {
    /// The stored values of `keys` in a live dataset: `None` for a tombstone; keys never
    /// written (or a dataset that does not exist) are absent.
    pub fn record_values(
        &self,
        dataset: &super::parse::DatasetRef,
        keys: &[&str],
    ) -> Result<std::collections::HashMap<String, Option<String>>, Rejection> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT r.value FROM records r JOIN datasets d ON d.id = r.dataset_id
             WHERE d.pool = ?1 AND d.identity = ?2 AND d.name = ?3 AND d.live = 1
                 AND r.key = ?4",
        )?;
        let mut out = std::collections::HashMap::new();
        for key in keys {
            let value: Option<Option<String>> = stmt
                .query_row(
                    params![
                        dataset.pool.as_str(),
                        dataset.identity.as_str(),
                        dataset.dataset.as_str(),
                        key
                    ],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(value) = value {
                out.insert((*key).to_owned(), value);
            }
        }
        Ok(out)
    }
}
