//! SQLite storage: the one place for the schema, migrations and the write rule.
//!
//! Write rule: every change goes through [`Db::write`]: the closure runs on the single writer
//! connection inside a transaction, and `write` returns only after that transaction is durably
//! committed (`synchronous=FULL`), so a change acknowledged to a browser survives a power cut.
//! Writes that arrive while another is running are *group-committed*: each runs in its own
//! savepoint (a failing one is rolled back alone) and the last of the queue commits them all
//! with one fsync. Readers take their own connection from a small pool; WAL mode gives each
//! read a consistent snapshot of committed data.

pub mod backup;
pub mod rehearsal;
mod schema;

use crate::error::{Error, Result};
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};

pub use schema::SCHEMA_VERSION;

pub struct Db {
    /// The database file in use: the session's, or during a rehearsal its copy (`rehearsal`).
    path: std::sync::RwLock<PathBuf>,
    /// Bumped when the file in use changes: pooled readers of the old file are dropped.
    generation: AtomicU64,
    writer: Mutex<Writer>,
    /// Writers waiting for the writer lock: while there are any, a finished write leaves the
    /// commit to them (one of them, or a later one, is bound to commit).
    queued: AtomicUsize,
    /// Signalled after every commit or failed batch.
    committed: Condvar,
    readers: Mutex<Vec<(u64, Connection)>>,
    pub utc_offset_hours: i8,
}

struct Writer {
    conn: Connection,
    /// A transaction is open with `pending` successful writes not yet committed.
    open: bool,
    pending: usize,
    /// Number of the batch the open transaction will become; bumped when it ends.
    batch: u64,
    /// Batches that did not commit, newest last (kept for the writers waiting on them).
    failed: std::collections::VecDeque<(u64, String)>,
}

/// The writer connection inside [`Db::write`]'s transaction. Only `Db::write` makes one, so a
/// function taking `&Tx` runs inside a write.
pub struct Tx<'c>(&'c Connection);

impl std::ops::Deref for Tx<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.0
    }
}

const DB_FILE: &str = "pingshen.db";
/// The appliance's signing key pair in the data directory (made and used by `bundle::key`;
/// named here because backups and restore copy them beside the database).
pub const KEY_SECRET_FILE: &str = "appliance.key";
pub const KEY_PUBLIC_FILE: &str = "appliance.pub";
const MAX_IDLE_READERS: usize = 16;
const SQLITE_SOFT_HEAP_LIMIT: i64 = 12 << 20;
/// Failed batches remembered (failures are rare: a full disk, an I/O error).
const FAILED_KEPT: usize = 1024;
/// A batch is committed once it holds this many writes even if more are queued, so a steady
/// stream of writers cannot delay an acknowledgement indefinitely.
const MAX_BATCH: usize = 64;

impl Db {
    /// Opens (creating if needed) the database in `data_dir` and brings the schema up to date.
    /// While a rehearsal runs, that is its copy (`rehearsal::dir`): every command and the
    /// server then work on the copy, and the session's own file is not written.
    pub fn open(data_dir: &Path, utc_offset_hours: i8) -> Result<Db> {
        std::fs::create_dir_all(data_dir)
            .map_err(|e| Error::internal(format!("cannot create data dir {}: {e}", data_dir.display())))?;
        let path = rehearsal::current_dir(data_dir).join(DB_FILE);
        let conn = open_writer(&path)?;
        let writer = Writer { conn, open: false, pending: 0, batch: 0, failed: Default::default() };
        Ok(Db {
            path: std::sync::RwLock::new(path),
            generation: AtomicU64::new(0),
            writer: Mutex::new(writer),
            queued: AtomicUsize::new(0),
            committed: Condvar::new(),
            readers: Mutex::new(Vec::new()),
            utc_offset_hours,
        })
    }

    /// The database file in use.
    pub fn path(&self) -> PathBuf {
        self.path.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The directory of the database in use: where files derived from it (the bundle) go.
    pub fn dir(&self) -> PathBuf {
        self.path().parent().map(Path::to_path_buf).unwrap_or_default()
    }

    /// Moves every later read and write to the database in `dir` (a rehearsal's start and end).
    /// With the writer lock held throughout (pending writes committed first): `before` runs on
    /// the old file's connection (and may create the new file), then the new file is opened,
    /// `after` runs on it, and only then may anyone write again — so no write lands in
    /// between. Pooled readers of the old file are dropped.
    pub(crate) fn switch_with<A, B>(
        &self,
        dir: &Path,
        before: impl FnOnce(&Connection) -> Result<A>,
        after: impl FnOnce(&Connection, A) -> Result<B>,
    ) -> Result<B> {
        let mut w = self.idle_writer();
        let a = before(&w.conn)?;
        let path = dir.join(DB_FILE);
        w.conn = open_writer(&path)?;
        *self.path.write().unwrap_or_else(|p| p.into_inner()) = path;
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.readers.lock().unwrap_or_else(|p| p.into_inner()).clear();
        after(&w.conn, a)
    }

    /// Retires the database for a wipe: with the writer lock held (pending writes committed), `f`
    /// removes the files; then this handle points at an empty in-memory database, so nothing
    /// in this process reads or writes the removed session again (reads fail: the process is
    /// about to stop).
    pub(crate) fn retire_with<T>(&self, f: impl FnOnce() -> Result<T>) -> Result<T> {
        let mut w = self.idle_writer();
        let out = f()?;
        w.conn = Connection::open_in_memory()?;
        let gone = self.dir().join("wiped").join(DB_FILE);
        *self.path.write().unwrap_or_else(|p| p.into_inner()) = gone;
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.readers.lock().unwrap_or_else(|p| p.into_inner()).clear();
        Ok(out)
    }

    /// Runs `f` in a transaction on the writer connection and returns once it is committed.
    /// An `Err` from `f` undoes everything `f` did and nothing else.
    pub fn write<T>(&self, f: impl FnOnce(&Tx) -> Result<T>) -> Result<T> {
        let mut w = self.lock_writer();
        let batch = w.batch;
        let out = w.run(f);
        let succeeded = matches!(out, Ok(Ok(_)));
        if w.open && (self.queued.load(Ordering::SeqCst) == 0 || w.pending >= MAX_BATCH) {
            w.end_batch();
        } else if w.open && succeeded {
            // Writers are queued behind us: the last of them commits our change with theirs.
            while w.batch == batch {
                w = self.committed.wait(w).unwrap_or_else(|p| p.into_inner());
            }
        }
        if w.batch != batch {
            self.committed.notify_all();
        }
        let failure = w.failed.iter().find(|(b, _)| *b == batch).map(|(_, e)| e.clone());
        drop(w);
        let out = out.unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
        match failure {
            None => Ok(out),
            Some(e) => Err(Error::internal(format!("commit failed: {e}"))),
        }
    }

    /// The writer lock, counted as queued while waiting for it.
    fn lock_writer(&self) -> MutexGuard<'_, Writer> {
        self.queued.fetch_add(1, Ordering::SeqCst);
        let w = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        self.queued.fetch_sub(1, Ordering::SeqCst);
        w
    }

    /// The writer connection with no transaction open (a pending batch is committed first).
    fn idle_writer(&self) -> MutexGuard<'_, Writer> {
        let mut w = self.lock_writer();
        if w.open {
            w.end_batch();
            self.committed.notify_all();
        }
        w
    }

    /// Runs `f` on a reader connection (a consistent snapshot for each statement/transaction).
    pub fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let pooled = {
            let mut pool = self.readers.lock().unwrap_or_else(|p| p.into_inner());
            pool.pop()
        };
        let (generation, conn) = match pooled {
            Some(c) => c,
            None => {
                let generation = self.generation.load(Ordering::SeqCst);
                (generation, open_conn(&self.path(), false)?)
            }
        };
        let out = f(&conn);
        let mut pool = self.readers.lock().unwrap_or_else(|p| p.into_inner());
        if pool.len() < MAX_IDLE_READERS && generation == self.generation.load(Ordering::SeqCst) {
            pool.push((generation, conn));
        }
        out
    }

    /// Current time in the venue's offset, RFC 3339 (what every stored timestamp uses).
    pub fn now(&self) -> String {
        now_rfc3339(self.utc_offset_hours)
    }

    /// Empties the WAL file after a round closes: old frames there would otherwise keep the
    /// order in which ballots were written until SQLite happened to overwrite them.
    pub fn truncate_wal(&self) {
        let w = self.idle_writer();
        if let Err(e) = w.conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())) {
            log::warn!("wal checkpoint: {e}");
        }
    }

    pub fn size_bytes(&self) -> u64 {
        let path = self.path();
        let wal = path.with_extension("db-wal");
        let main = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        main + std::fs::metadata(wal).map(|m| m.len()).unwrap_or(0)
    }
}

impl Writer {
    /// Runs `f` in its own savepoint of the open (or a new) transaction. A panic in `f` is
    /// returned (after its savepoint is undone) so the caller can settle the batch first.
    fn run<T>(&mut self, f: impl FnOnce(&Tx) -> Result<T>) -> std::thread::Result<Result<T>> {
        if let Err(e) = self.begin() {
            return Ok(Err(e));
        }
        let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&Tx(&self.conn))));
        let ok = matches!(out, Ok(Ok(_)));
        if self.conn.is_autocommit() {
            // SQLite rolled the whole transaction back (disk full, I/O error): everything
            // pending in this batch is lost, so the batch fails for every writer in it.
            self.open = false;
            self.fail_batch("the transaction was rolled back by SQLite".into());
        } else if ok {
            match self.conn.prepare_cached("RELEASE w").and_then(|mut s| s.execute([])) {
                Ok(_) => self.pending += 1,
                Err(e) => self.abort(format!("release savepoint: {e}")),
            }
        } else if let Err(e) = self.conn.execute_batch("ROLLBACK TO w; RELEASE w") {
            self.abort(format!("rollback to savepoint: {e}"));
        } else if self.pending == 0 {
            // Nothing else in the transaction: end it now rather than commit nothing later.
            if let Err(e) = self.conn.execute_batch("ROLLBACK") {
                self.abort(format!("rollback: {e}"));
            }
            self.open = false;
        }
        out
    }

    fn begin(&mut self) -> Result<()> {
        if !self.open {
            self.conn.prepare_cached("BEGIN IMMEDIATE")?.execute([])?;
            self.open = true;
        }
        self.conn.prepare_cached("SAVEPOINT w")?.execute([])?;
        Ok(())
    }

    fn abort(&mut self, why: String) {
        if let Err(e) = self.conn.execute_batch("ROLLBACK") {
            log::error!("rollback after {why}: {e}");
        }
        self.open = false;
        self.fail_batch(why);
    }

    /// Commits the open transaction (one fsync for every write in it) and records the outcome.
    fn end_batch(&mut self) {
        let r = self.conn.prepare_cached("COMMIT").and_then(|mut s| s.execute([]));
        self.open = false;
        match r {
            Ok(_) => self.next_batch(),
            Err(e) => {
                if let Err(r) = self.conn.execute_batch("ROLLBACK") {
                    log::error!("rollback after a failed commit: {r}");
                }
                self.fail_batch(format!("commit: {e}"));
            }
        }
    }

    /// The open batch is lost: every writer in it gets an error instead of an acknowledgement.
    fn fail_batch(&mut self, why: String) {
        log::error!("write batch {} lost ({} writes): {why}", self.batch, self.pending);
        self.failed.push_back((self.batch, why));
        if self.failed.len() > FAILED_KEPT {
            self.failed.pop_front();
        }
        self.next_batch();
    }

    fn next_batch(&mut self) {
        self.batch += 1;
        self.pending = 0;
    }
}

/// The writer connection: WAL mode, the process-wide heap limit, the schema brought up to date.
fn open_writer(path: &Path) -> Result<Connection> {
    let mut conn = open_conn(path, true)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // Process-wide: past this, SQLite recycles cached pages (the writer's and every
    // reader's together) instead of growing; the kernel caches the file anyway. The load
    // test's peak RSS fell by 15 MB with no loss of speed (BENCHMARKS.md).
    conn.pragma_update(None, "soft_heap_limit", SQLITE_SOFT_HEAP_LIMIT)?;
    schema::migrate(&mut conn)?;
    Ok(conn)
}

fn open_conn(path: &Path, create: bool) -> Result<Connection> {
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if create {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    let conn = Connection::open_with_flags(path, flags)
        .map_err(|e| Error::internal(format!("cannot open database {}: {e}", path.display())))?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.set_prepared_statement_cache_capacity(64);
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Deleted drafts must not linger in free pages where a file reader could find them.
    conn.pragma_update(None, "secure_delete", "ON")?;
    // Each write runs in a savepoint (group commit); its statement journal stays in memory
    // instead of a temporary file written for every page it touches.
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    // The writer may keep a larger page cache than each reader (readers are many, one per
    // concurrent request); all of them together stay under SQLITE_SOFT_HEAP_LIMIT, and the
    // kernel's page cache serves the rest just as well (BENCHMARKS.md, peak RSS).
    conn.pragma_update(None, "cache_size", if create { -16000 } else { -2000 })?;
    Ok(conn)
}

/// In the data dir: the serving appliance's latest connection figures, for `pingshen doctor`.
pub const STATS_FILE: &str = "connections.json";

/// Where large request bodies (the package upload) are spooled while their request runs:
/// under the data dir (the service may write there), emptied at every start and by the wipe.
pub fn spool_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("spool")
}

pub fn now_rfc3339(offset_hours: i8) -> String {
    let offset = time::UtcOffset::from_hms(offset_hours, 0, 0).unwrap_or(time::UtcOffset::UTC);
    let now = time::OffsetDateTime::now_utc().to_offset(offset);
    now.replace_nanosecond(0).unwrap_or(now).format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

/// "2026-11-27T09:30:00+08:00" → "2026-11-27 09:30:00" for pages and printouts.
pub fn display_time(rfc3339: &str) -> String {
    let s = rfc3339.replace('T', " ");
    s.get(..19).unwrap_or(&s).to_string()
}

/// The `prev` of the first line of the chain.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Appends one audit event, chained to the one before. Called inside the same transaction as
/// the change it records, so an event exists exactly when its change does; the single writer
/// makes the chain strictly sequential.
pub fn audit(tx: &Tx, at: &str, actor: &str, action: &str, object: &str, details: serde_json::Value) -> Result<()> {
    let (seq, prev): (i64, String) =
        row(tx, "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1", [], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?
            .unwrap_or((0, GENESIS.to_string()));
    let seq = seq + 1;
    let line = serde_json::json!({
        "seq": seq, "at": at, "actor": actor, "action": action, "object": object, "details": details, "prev": prev,
    })
    .to_string();
    let hash = crate::ids::sha256_hex(line.as_bytes());
    tx.prepare_cached(
        "INSERT INTO audit (seq, at, actor, action, object, details, line, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(
        rusqlite::params![seq, at, actor, action, object, details.to_string(), line, hash],
    )?;
    Ok(())
}

/// `query_row` through the connection's statement cache: the queries every request makes
/// (session, person, vote, meta) were spending a fifth of a request re-parsing their SQL.
pub fn row<T, P: rusqlite::Params>(
    conn: &rusqlite::Connection,
    sql: &str,
    params: P,
    f: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    conn.prepare_cached(sql)?.query_row(params, f)
}

/// The hash of the newest audit line (the chain's head), if any.
/// The server's claim on its data directory (an advisory `flock` on `pingshen.lock`), held for
/// the process's life and released by the kernel however it ends. Commands that must not run
/// beside a server (`pingshen rehearsal`) check it; `None`: another process holds it.
pub fn lock_data_dir(data_dir: &Path) -> Result<Option<std::fs::File>> {
    std::fs::create_dir_all(data_dir)?;
    let f =
        std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(data_dir.join("pingshen.lock"))?;
    match f.try_lock() {
        Ok(()) => Ok(Some(f)),
        Err(std::fs::TryLockError::WouldBlock) => Ok(None),
        Err(std::fs::TryLockError::Error(e)) => Err(e.into()),
    }
}

/// Overwrites a file's bytes with zeros (synced) and removes it; a directory, everything in
/// it. On a plain disk the old bytes are gone from the file; on an SSD or a journaling file
/// system copies may survive in blocks the drive remapped (README: what a wipe guarantees).
pub fn shred(path: &Path) -> Result<()> {
    let fail = |e: std::io::Error| Error::internal(format!("cannot remove {}: {e}", path.display()));
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(fail(e)),
    };
    if meta.is_dir() {
        for e in std::fs::read_dir(path).map_err(fail)? {
            shred(&e.map_err(fail)?.path())?;
        }
        return std::fs::remove_dir(path).map_err(fail);
    }
    if meta.is_file() {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new().write(true).open(path).map_err(fail)?;
        let zeros = vec![0u8; 1 << 16];
        let mut left = meta.len();
        while left > 0 {
            let n = left.min(zeros.len() as u64) as usize;
            f.write_all(&zeros[..n]).map_err(fail)?;
            left -= n as u64;
        }
        f.sync_all().map_err(fail)?;
    }
    std::fs::remove_file(path).map_err(fail)
}

/// Removes a file that may not exist (a temporary left by a failed write); other errors surface.
pub fn remove_if_exists(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(Error::internal(format!("cannot remove {}: {e}", path.display())))
        }
        _ => Ok(()),
    }
}

/// A session-wide setting or mark (`reported_at`, `ballot_seed`, the display token …).
pub fn meta(conn: &rusqlite::Connection, key: &str) -> Result<Option<String>> {
    Ok(row(conn, "SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0)).optional()?)
}

pub fn set_meta(tx: &Tx, key: &str, value: &str) -> Result<()> {
    tx.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [key, value],
    )?;
    Ok(())
}

/// The session epoch (`meta`): changes when a session is imported (and, later, when a
/// rehearsal starts and ends). Anything a device kept to send later carries the epoch it was
/// made in and is refused under another (DOMAIN, rehearsal).
pub const EPOCH: &str = "epoch";

pub fn epoch(conn: &rusqlite::Connection) -> Result<String> {
    Ok(meta(conn, EPOCH)?.unwrap_or_default())
}

/// Whether the reporter has submitted: from then on only web sessions change (DOMAIN
/// decision 3; the schema's freeze triggers refuse every other write).
pub fn is_reported(conn: &rusqlite::Connection) -> Result<bool> {
    Ok(meta(conn, "reported_at")?.is_some())
}

pub fn audit_head(conn: &rusqlite::Connection) -> Result<Option<String>> {
    Ok(conn.query_row("SELECT hash FROM audit ORDER BY seq DESC LIMIT 1", [], |r| r.get(0)).optional()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_migrates_and_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path(), 8).unwrap();
        let v: i64 = db.read(|c| Ok(c.query_row("PRAGMA user_version", [], |r| r.get(0))?)).unwrap();
        assert_eq!(v, SCHEMA_VERSION);
        let mode: String = db.read(|c| Ok(c.query_row("PRAGMA journal_mode", [], |r| r.get(0))?)).unwrap();
        assert_eq!(mode, "wal");
        drop(db);
        Db::open(dir.path(), 8).unwrap();
    }

    /// DOMAIN decision 3 at the database: once `reported_at` is set every table but
    /// web_sessions refuses writes, and a table added without its freeze triggers fails here.
    #[test]
    fn a_reported_session_is_frozen_by_the_schema() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path(), 8).unwrap();
        let tables: Vec<String> = db
            .read(|c| {
                // ballots and drafts: held by the protocol (closed rounds), see schema 6.
                let mut st = c.prepare(
                    "SELECT name FROM sqlite_master WHERE type = 'table'
                     AND name NOT IN ('web_sessions', 'ballots', 'drafts')",
                )?;
                let rows = st.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
                Ok(rows)
            })
            .unwrap();
        for t in &tables {
            let n: i64 = db
                .read(|c| {
                    Ok(c.query_row(
                        "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?1 AND name LIKE 'frozen_%'",
                        [t],
                        |r| r.get(0),
                    )?)
                })
                .unwrap();
            assert_eq!(n, 3, "table {t} needs its insert/update/delete freeze triggers");
        }
        db.write(|tx| set_meta(tx, "x", "1")).unwrap();
        db.write(|tx| set_meta(tx, "reported_at", "2026-12-05T10:00:00+08:00")).unwrap();
        let e = db.write(|tx| set_meta(tx, "x", "2")).unwrap_err();
        assert_eq!(e.kind, crate::error::Kind::Conflict, "{e}");
        assert_eq!(e.message, crate::error::REPORTED_MESSAGE);
        let e = db.write(|tx| Ok(tx.execute("DELETE FROM meta", [])?)).unwrap_err();
        assert_eq!(e.kind, crate::error::Kind::Conflict);
        assert_eq!(db.read(|c| meta(c, "x")).unwrap().as_deref(), Some("1"), "nothing changed");
        // Web sessions still change: signing in after the report works.
        db.write(|tx| Ok(tx.execute("DELETE FROM web_sessions", [])?)).unwrap();
    }

    #[test]
    fn refuses_newer_schema() {
        let dir = tempfile::tempdir().unwrap();
        drop(Db::open(dir.path(), 8).unwrap());
        let c = Connection::open(dir.path().join(DB_FILE)).unwrap();
        c.pragma_update(None, "user_version", SCHEMA_VERSION + 1).unwrap();
        drop(c);
        assert!(Db::open(dir.path(), 8).is_err());
    }

    /// Writers that queue share a commit; each still sees exactly its own outcome: every
    /// acknowledged write is there once, every refused or panicked one left nothing, and the
    /// audit chain stays one unbroken line.
    #[test]
    fn group_commit_keeps_each_writers_outcome() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path(), 8).unwrap();
        let acked = Mutex::new(Vec::new());
        std::thread::scope(|s| {
            for t in 0..16 {
                let (db, acked) = (&db, &acked);
                s.spawn(move || {
                    for i in 0..60 {
                        let object = format!("{t}-{i}");
                        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            db.write(|tx| {
                                audit(tx, "t", "a", "x", &object, serde_json::json!({}))?;
                                // Hold the writer a moment so others queue and batches form.
                                std::thread::sleep(std::time::Duration::from_micros(200));
                                match i % 10 {
                                    3 => Err(Error::bad_request("refused")),
                                    7 if t % 4 == 0 => panic!("a bug in one handler"),
                                    _ => Ok(()),
                                }
                            })
                        }));
                        if matches!(r, Ok(Ok(()))) {
                            acked.lock().unwrap().push(object);
                        }
                    }
                });
            }
        });
        let mut acked = acked.into_inner().unwrap();
        acked.sort();
        type Line = (i64, String, String, String);
        let chain: Vec<Line> = db
            .read(|c| {
                let mut st = c.prepare("SELECT seq, object, line, hash FROM audit ORDER BY seq")?;
                let rows = st
                    .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
                    .collect::<rusqlite::Result<_>>()?;
                Ok(rows)
            })
            .unwrap();
        let mut stored: Vec<String> = chain.iter().map(|l| l.1.clone()).collect();
        stored.sort();
        assert_eq!(acked.len(), 16 * 60 - 16 * 6 - 4 * 6, "refused and panicked writes are not acknowledged");
        assert_eq!(stored, acked, "exactly the acknowledged writes are stored, each once");
        let mut prev = GENESIS.to_string();
        for (k, (seq, _, line, hash)) in chain.iter().enumerate() {
            assert_eq!(*seq, k as i64 + 1);
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(v["prev"], prev.as_str(), "line {seq} chains to the one before");
            assert_eq!(&crate::ids::sha256_hex(line.as_bytes()), hash);
            prev = hash.clone();
        }
        let batches = db.writer.lock().unwrap().batch as usize;
        assert!(
            batches < acked.len() / 2,
            "queued writes shared commits ({batches} commits for {} writes)",
            acked.len()
        );
        // The writer is usable afterwards.
        db.write(|tx| audit(tx, "t", "a", "x", "after", serde_json::json!({}))).unwrap();
    }

    #[test]
    fn failed_write_rolls_back() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path(), 8).unwrap();
        let r: Result<()> = db.write(|tx| {
            audit(tx, "t", "a", "x", "o", serde_json::json!({}))?;
            Err(Error::bad_request("no"))
        });
        assert!(r.is_err());
        let n: i64 = db.read(|c| Ok(c.query_row("SELECT count(*) FROM audit", [], |r| r.get(0))?)).unwrap();
        assert_eq!(n, 0);
    }
}
