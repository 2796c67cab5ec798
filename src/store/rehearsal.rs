//! 彩排 (rehearsal, DOMAIN "Rehearsal and the end of the day"): the day before, the venue plays
//! the real package end to end, and afterwards the session is exactly as it was.
//!
//! How: at the start the database is copied (`VACUUM INTO`) into `DATA/rehearsal/` and every
//! read and write moves there ([`Db::switch_to`]); the session's own file is not written while
//! the rehearsal runs. At the end everything moves back, the copy and everything derived from
//! it (WAL, bundles) is overwritten and removed, and the session gets one audit entry: held
//! from … to …, with the content hash before and after. The epoch changes at both ends, so
//! nothing a device kept to send later crosses over. Both switches happen under the writer
//! lock, so no write lands between "copied" and "switched".

use super::{audit, meta, set_meta, Db, Tx, DB_FILE, EPOCH};
use crate::error::{Error, Result};
use rusqlite::types::ValueRef;
use rusqlite::Connection;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// The rehearsal's directory inside the data directory.
pub const DIR: &str = "rehearsal";
/// `meta` of the copy: when the rehearsal started, and the session's content hash then.
pub const STARTED: &str = "rehearsal.started_at";
pub const HASH_BEFORE: &str = "rehearsal.hash_before";

/// The directory whose database is in use: the rehearsal's while one runs.
pub fn current_dir(data_dir: &Path) -> PathBuf {
    let d = data_dir.join(DIR);
    if d.join(DB_FILE).is_file() {
        d
    } else {
        data_dir.to_path_buf()
    }
}

/// When the rehearsal running on this database started (`None`: this is the real session).
pub fn started(conn: &Connection) -> Result<Option<String>> {
    meta(conn, STARTED)
}

/// Refuses `what` while a rehearsal runs (re-import, password reissue, admin password, wipe).
pub fn refuse_during(conn: &Connection, what: &str) -> Result<()> {
    match started(conn)? {
        Some(_) => Err(Error::conflict(format!("彩排进行中，不能{what}。请先在「会务管理 → 彩排」结束彩排。"))),
        None => Ok(()),
    }
}

/// SHA-256 (hex) of the session's content: every table but the audit chain and web sessions,
/// tables by name, rows in the order of all their columns, each value with its type; `meta`
/// without the keys that must change (the epoch, the rehearsal's own marks). Equal before and
/// after a rehearsal; any change of a vote, draft, account or setting changes it.
pub fn content_hash(conn: &Connection) -> Result<String> {
    let tables: Vec<String> = conn
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
             AND name NOT IN ('audit', 'web_sessions') ORDER BY name",
        )?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut h = Sha256::new();
    for t in &tables {
        let cols: Vec<String> = conn
            .prepare(&format!("SELECT name FROM pragma_table_info('{t}') ORDER BY cid"))?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let order: Vec<String> = (1..=cols.len()).map(|i| i.to_string()).collect();
        let filter = if t == "meta" {
            format!(" WHERE key NOT IN ('{EPOCH}', '{STARTED}', '{HASH_BEFORE}')")
        } else {
            String::new()
        };
        h.update(format!("table {t} ({})\n", cols.join(",")).as_bytes());
        let mut st = conn.prepare(&format!("SELECT * FROM \"{t}\"{filter} ORDER BY {}", order.join(",")))?;
        let mut rows = st.query([])?;
        while let Some(row) = rows.next()? {
            for i in 0..cols.len() {
                match row.get_ref(i)? {
                    ValueRef::Null => h.update(b"N"),
                    ValueRef::Integer(v) => h.update(format!("I{v}").as_bytes()),
                    ValueRef::Real(v) => h.update(format!("R{v:?}").as_bytes()),
                    ValueRef::Text(v) => {
                        h.update(format!("T{}:", v.len()).as_bytes());
                        h.update(v);
                    }
                    ValueRef::Blob(v) => {
                        h.update(format!("B{}:", v.len()).as_bytes());
                        h.update(v);
                    }
                }
                h.update(b"|");
            }
            h.update(b"\n");
        }
    }
    Ok(hex::encode(h.finalize()))
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Status {
    /// When the running rehearsal started; `None` when none runs.
    pub started_at: Option<String>,
    /// The content hash of the database in use now.
    pub hash: String,
    /// During a rehearsal: the session's hash when it started (it is the same at its end).
    pub hash_before: Option<String>,
}

pub fn status(db: &Db) -> Result<Status> {
    db.read(|c| Ok(Status { started_at: started(c)?, hash: content_hash(c)?, hash_before: meta(c, HASH_BEFORE)? }))
}

/// Whether the session may still be rehearsed: imported, no round ever opened, not reported.
fn may_start(conn: &Connection) -> Result<()> {
    if started(conn)?.is_some() {
        return Err(Error::conflict("彩排已在进行中。"));
    }
    if crate::store::row(conn, "SELECT count(*) FROM session", [], |r| r.get::<_, i64>(0))? == 0 {
        return Err(Error::conflict("还没有导入会务包，不能彩排。"));
    }
    let opened: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM votes WHERE status <> 'drafting') OR EXISTS (SELECT 1 FROM meta WHERE key = 'reported_at')",
        [],
        |r| r.get(0),
    )?;
    if opened {
        return Err(Error::conflict("正式投票已经开启过，不能再彩排：彩排只能在第一轮正式投票开启之前进行。"));
    }
    Ok(())
}

/// Starts a rehearsal on a copy of the session; returns the session's content hash.
pub fn start(db: &Db, data_dir: &Path, actor: &str) -> Result<String> {
    let dir = data_dir.join(DIR);
    let at = db.now();
    db.switch_with(
        &dir,
        |real| {
            may_start(real)?;
            let hash = content_hash(real)?;
            // A leftover of a crash during an earlier start or end goes first.
            if dir.exists() {
                super::shred(&dir)?;
            }
            std::fs::create_dir_all(&dir)?;
            let tmp = dir.join("copy.db.tmp");
            real.execute("VACUUM INTO ?1", [tmp.to_string_lossy()])?;
            let copy = Connection::open(&tmp)?;
            in_transaction(&copy, |tx| {
                set_meta(tx, STARTED, &at)?;
                set_meta(tx, HASH_BEFORE, &hash)?;
                set_meta(tx, EPOCH, &crate::ids::random_token())?;
                audit(tx, &at, actor, "rehearsal.start", "session", json!({ "hash": hash }))
            })?;
            drop(copy);
            std::fs::File::open(&tmp)?.sync_all()?;
            std::fs::rename(&tmp, dir.join(DB_FILE))?;
            sync_dir(&dir)?;
            Ok(hash)
        },
        |_, hash| Ok(hash),
    )
    .inspect(|_| log::info!("rehearsal started by {actor}"))
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Ended {
    pub started_at: String,
    pub ended_at: String,
    pub hash_before: String,
    pub hash_after: String,
}

/// Ends the rehearsal: back to the session's own database, the copy and all derived from it
/// removed, everyone but the admin signed out, a new epoch, one audit entry.
pub fn end(db: &Db, data_dir: &Path, actor: &str) -> Result<Ended> {
    let dir = data_dir.join(DIR);
    if db.dir() != dir {
        // The session itself reported: nothing to end, and nothing may change.
        if db.read(super::is_reported)? {
            return Err(Error::reported());
        }
        return Err(Error::conflict("现在没有进行中的彩排。"));
    }
    let ended = db.switch_with(
        data_dir,
        |copy| {
            let started_at = started(copy)?.ok_or_else(|| Error::conflict("现在没有进行中的彩排。"))?;
            let hash_before = meta(copy, HASH_BEFORE)?.unwrap_or_default();
            Ok((started_at, hash_before))
        },
        |real, (started_at, hash_before)| {
            let ended_at = db.now();
            in_transaction(real, |tx| {
                let hash_after = content_hash(tx)?;
                tx.execute(
                    "DELETE FROM web_sessions WHERE account_id NOT IN (SELECT id FROM accounts WHERE is_admin = 1)",
                    [],
                )?;
                set_meta(tx, EPOCH, &crate::ids::random_token())?;
                let e = Ended { started_at, ended_at: ended_at.clone(), hash_before, hash_after };
                audit(
                    tx,
                    &ended_at,
                    actor,
                    "rehearsal.held",
                    "session",
                    json!({ "from": e.started_at, "to": e.ended_at, "hash_before": e.hash_before,
                            "hash_after": e.hash_after, "unchanged": e.hash_before == e.hash_after }),
                )?;
                Ok(e)
            })
        },
    )?;
    super::shred(&dir)?;
    log::info!("rehearsal ended by {actor}; content unchanged: {}", ended.hash_before == ended.hash_after);
    Ok(ended)
}

/// Runs `f` in one transaction on a connection outside the writer's batching (the switch holds
/// the writer lock, so nothing else writes meanwhile).
fn in_transaction<T>(conn: &Connection, f: impl FnOnce(&Tx) -> Result<T>) -> Result<T> {
    conn.execute_batch("BEGIN IMMEDIATE")?;
    match f(&Tx(conn)) {
        Ok(v) => {
            conn.execute_batch("COMMIT")?;
            Ok(v)
        }
        Err(e) => {
            if let Err(r) = conn.execute_batch("ROLLBACK") {
                log::error!("rollback: {r}");
            }
            Err(e)
        }
    }
}

fn sync_dir(dir: &Path) -> Result<()> {
    std::fs::File::open(dir)?.sync_all().map_err(|e| Error::internal(format!("sync {}: {e}", dir.display())))
}
