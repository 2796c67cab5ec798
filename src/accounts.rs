//! People, accounts, passwords, web sessions and login throttling.
//!
//! Passwords exist in plain text only in the value returned by [`issue_passwords`] (printed
//! once on slips); the database keeps bcrypt hashes, and session tokens only as SHA-256.

use crate::error::{Error, Result};
use crate::store::{self, Db, Tx};
use rand::rngs::OsRng;
use rand::Rng;
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use serde_json::json;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// No look-alikes: no i, l, o, 0, 1 (and no capitals in usernames, so case never confuses).
const USER_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
const PASS_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZabcdefghjkmnpqrstuvwxyz23456789";
const USER_LEN: usize = 8;
/// 10 symbols of 54 ≈ 57 bits: out of reach of online guessing with throttling.
const PASS_LEN: usize = 10;

pub fn random_from(alphabet: &[u8], len: usize) -> String {
    let mut rng = OsRng;
    (0..len).map(|_| alphabet[rng.gen_range(0..alphabet.len())] as char).collect()
}

pub fn new_username() -> String {
    // Start with a letter so spreadsheets never read it as a number.
    let first = random_from(&USER_ALPHABET[..23], 1);
    first + &random_from(USER_ALPHABET, USER_LEN - 1)
}

pub fn new_password() -> String {
    random_from(PASS_ALPHABET, PASS_LEN)
}

/// 256 bits from the OS in one call (`gen::<[u8; 32]>` asked the OS once per byte: 32
/// system calls per ballot id in the submission burst).
pub use crate::ids::random_token;

pub fn token_hash(token: &str) -> String {
    crate::ids::sha256_hex(token.as_bytes())
}

#[derive(Debug, Clone, Serialize)]
pub struct Person {
    pub code: String,
    pub name: String,
    pub unit: String,
    pub specialty: String,
    pub group_code: Option<String>,
    pub group_name: Option<String>,
    pub is_leader: bool,
    pub is_member: bool,
    pub is_chair: bool,
    pub is_reporter: bool,
}

impl Person {
    pub fn is_group_expert(&self) -> bool {
        self.group_code.is_some()
    }
    pub fn role_labels(&self) -> Vec<&'static str> {
        let mut r = Vec::new();
        if self.is_leader {
            r.push("专家组组长");
        } else if self.is_group_expert() {
            r.push("专业组专家");
        }
        if self.is_chair {
            r.push("评委会主任");
        } else if self.is_member {
            r.push("评委");
        }
        if self.is_reporter {
            r.push("上报人");
        }
        r
    }
}

const PERSON_SQL: &str = "SELECT e.code, e.name, e.unit, e.specialty, e.group_code, g.name,
        g.leader = e.code, c.expert_code IS NOT NULL, coalesce(c.is_chair, 0), coalesce(c.is_reporter, 0)
     FROM experts e LEFT JOIN groups g ON g.code = e.group_code
     LEFT JOIN committee c ON c.expert_code = e.code";

fn person_row(r: &rusqlite::Row) -> rusqlite::Result<Person> {
    Ok(Person {
        code: r.get(0)?,
        name: r.get(1)?,
        unit: r.get(2)?,
        specialty: r.get(3)?,
        group_code: r.get(4)?,
        group_name: r.get(5)?,
        is_leader: r.get::<_, Option<bool>>(6)?.unwrap_or(false),
        is_member: r.get(7)?,
        is_chair: r.get(8)?,
        is_reporter: r.get(9)?,
    })
}

pub fn load_person(conn: &Connection, code: &str) -> Result<Option<Person>> {
    Ok(store::row(conn, &format!("{PERSON_SQL} WHERE e.code = ?1"), [code], person_row).optional()?)
}

pub fn load_people(conn: &Connection) -> Result<Vec<Person>> {
    let mut st = conn.prepare(&format!("{PERSON_SQL} ORDER BY e.ord"))?;
    let rows = st.query_map([], person_row)?.collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

#[derive(Debug, Clone, Serialize)]
pub struct Account {
    pub id: i64,
    pub username: String,
    pub person_code: Option<String>,
    pub is_admin: bool,
    /// 会务签到员: attendance and the room-display link, nothing else.
    pub is_desk: bool,
}

/// One account per person of the imported session: removes accounts of people who left the
/// package, creates (password-less, so unusable) accounts for new ones. Returns how many new.
pub fn sync_people(tx: &Tx) -> Result<usize> {
    tx.execute("DELETE FROM accounts WHERE is_admin = 0 AND person_code NOT IN (SELECT code FROM experts)", [])?;
    let missing: Vec<String> = {
        let mut st = tx.prepare(
            "SELECT code FROM experts WHERE code NOT IN (SELECT person_code FROM accounts WHERE person_code IS NOT NULL) ORDER BY ord",
        )?;
        let rows = st.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<Vec<String>>>()?;
        rows
    };
    for code in &missing {
        loop {
            let n = tx.execute(
                "INSERT OR IGNORE INTO accounts (username, person_code) VALUES (?1, ?2)",
                params![new_username(), code],
            )?;
            if n == 1 {
                break;
            }
        }
    }
    Ok(missing.len())
}

#[derive(Debug, Clone, Serialize)]
pub struct Slip {
    pub code: String,
    pub name: String,
    pub roles: String,
    pub group: String,
    pub username: String,
    pub password: String,
}

/// Hashes on every core: 500 slips at cost 10 would take half a minute on one.
pub fn hash_all(passwords: &[String], cost: u32) -> Result<Vec<String>> {
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2).max(1);
    let chunk = passwords.len().div_ceil(threads).max(1);
    let results: Vec<Result<Vec<String>>> = std::thread::scope(|s| {
        let handles: Vec<_> = passwords
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || {
                    part.iter().map(|p| bcrypt::hash(p, cost).map_err(Error::internal)).collect::<Result<Vec<_>>>()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|_| Err(Error::internal("hash thread panicked")))).collect()
    });
    let mut out = Vec::with_capacity(passwords.len());
    for r in results {
        out.extend(r?);
    }
    Ok(out)
}

/// Gives new passwords to everyone (or to `only`), logs their old sessions out, and returns the
/// slips: the only place the plain passwords ever exist.
pub fn issue_passwords(db: &Db, cost: u32, only: Option<&[String]>, actor: &str) -> Result<Vec<Slip>> {
    // Slips printed for a rehearsal would not match the session's passwords after it.
    db.read(|c| store::rehearsal::refuse_during(c, "发放或重置密码"))?;
    let people = db.read(load_people)?;
    let accounts: HashMap<String, String> = db.read(|c| {
        let mut st = c.prepare("SELECT person_code, username FROM accounts WHERE person_code IS NOT NULL")?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<HashMap<_, _>>>()?;
        Ok(rows)
    })?;
    let chosen: Vec<&Person> = match only {
        None => people.iter().collect(),
        Some(codes) => {
            for c in codes {
                if !people.iter().any(|p| &p.code == c) {
                    return Err(Error::bad_request(format!("专家编号「{c}」不存在")));
                }
            }
            people.iter().filter(|p| codes.contains(&p.code)).collect()
        }
    };
    let passwords: Vec<String> = chosen.iter().map(|_| new_password()).collect();
    let hashes = hash_all(&passwords, cost)?;
    let now = db.now();
    db.write(|tx| {
        for (p, h) in chosen.iter().zip(&hashes) {
            tx.execute(
                "UPDATE accounts SET password_hash = ?1, issued_at = ?2 WHERE person_code = ?3",
                params![h, now, p.code],
            )?;
            tx.execute(
                "DELETE FROM web_sessions WHERE account_id = (SELECT id FROM accounts WHERE person_code = ?1)",
                [&p.code],
            )?;
        }
        let codes: Vec<&str> = chosen.iter().map(|p| p.code.as_str()).collect();
        store::audit(
            tx,
            &now,
            actor,
            "accounts.issue",
            if only.is_some() { "some" } else { "all" },
            json!({ "people": codes }),
        )
    })?;
    Ok(chosen
        .iter()
        .zip(passwords)
        .map(|(p, password)| Slip {
            code: p.code.clone(),
            name: p.name.clone(),
            roles: p.role_labels().join("、"),
            group: p.group_name.clone().unwrap_or_default(),
            username: accounts.get(&p.code).cloned().unwrap_or_default(),
            password,
        })
        .collect())
}

/// Demo only: fixed usernames and passwords so the README can list them.
pub fn set_fixed_credentials(db: &Db, creds: &[(String, String, String)], cost: u32) -> Result<()> {
    let passwords: Vec<String> = creds.iter().map(|(_, _, p)| p.clone()).collect();
    let hashes = hash_all(&passwords, cost)?;
    let now = db.now();
    db.write(|tx| {
        for ((code, user, _), h) in creds.iter().zip(&hashes) {
            if code == "admin" {
                tx.execute(
                    "UPDATE accounts SET username = ?1, password_hash = ?2 WHERE is_admin = 1",
                    params![user, h],
                )?;
            } else {
                tx.execute(
                    "UPDATE accounts SET username = ?1, password_hash = ?2, issued_at = ?3 WHERE person_code = ?4",
                    params![user, h, now, code],
                )?;
            }
        }
        Ok(())
    })
}

/// Creates the admin account on first start; returns its password, to be shown exactly once.
pub fn ensure_admin(db: &Db, cost: u32) -> Result<Option<String>> {
    if db.read(|c| Ok(c.query_row("SELECT EXISTS (SELECT 1 FROM accounts WHERE is_admin = 1)", [], |r| r.get(0))?))? {
        return Ok(None);
    }
    let password = new_password();
    let hash = bcrypt::hash(&password, cost).map_err(Error::internal)?;
    let now = db.now();
    db.write(|tx| {
        tx.execute(
            "INSERT INTO accounts (username, password_hash, is_admin, issued_at) VALUES ('admin', ?1, 1, ?2)",
            params![hash, now],
        )?;
        store::audit(tx, &now, "system", "admin.create", "admin", json!({}))
    })?;
    Ok(Some(password))
}

/// Resets the admin password from the command line (forgotten password at the venue).
pub fn reset_admin(db: &Db, cost: u32) -> Result<String> {
    ensure_admin(db, cost)?;
    let password = new_password();
    let id: i64 = db.read(|c| Ok(c.query_row("SELECT id FROM accounts WHERE is_admin = 1", [], |r| r.get(0))?))?;
    set_password(db, id, &password, cost, "system")?;
    Ok(password)
}

pub fn set_password(db: &Db, account_id: i64, new: &str, cost: u32, actor: &str) -> Result<()> {
    db.read(|c| store::rehearsal::refuse_during(c, "修改密码"))?;
    let hash = bcrypt::hash(new, cost).map_err(Error::internal)?;
    let now = db.now();
    db.write(|tx| {
        tx.execute("UPDATE accounts SET password_hash = ?1 WHERE id = ?2", params![hash, account_id])?;
        tx.execute("DELETE FROM web_sessions WHERE account_id = ?1", [account_id])?;
        store::audit(tx, &now, actor, "account.password", &account_id.to_string(), json!({}))
    })
}

/// A hash of a random string: checking a missing user costs as much as a real one.
const DUMMY_HASH: &str = "$2b$10$abcdefghijklmnopqrstuu5s2v8.2VhV8h1bd8CkSVt3IBxPBcEyy";

/// An account from a row whose first four columns are id, username, person_code, is_admin
/// and whose `desk` column is is_desk.
fn account(r: &rusqlite::Row<'_>, desk: usize) -> rusqlite::Result<Account> {
    Ok(Account {
        id: r.get(0)?,
        username: r.get(1)?,
        person_code: r.get(2)?,
        is_admin: r.get(3)?,
        is_desk: r.get(desk)?,
    })
}

pub fn verify_login(db: &Db, username: &str, password: &str) -> Result<Option<Account>> {
    let row = db.read(|c| {
        Ok(c.query_row(
            "SELECT id, username, person_code, is_admin, password_hash, is_desk FROM accounts WHERE username = ?1",
            [username],
            |r| Ok((account(r, 5)?, r.get::<_, Option<String>>(4)?)),
        )
        .optional()?)
    })?;
    match row {
        Some((acc, Some(hash))) => Ok(bcrypt::verify(password, &hash).unwrap_or(false).then_some(acc)),
        _ => {
            // Spend the time a real check takes; the answer is "no" either way.
            if bcrypt::verify(password, DUMMY_HASH).is_err() {
                log::error!("the dummy bcrypt hash does not parse");
            }
            Ok(None)
        }
    }
}

pub fn unix_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// Starts a web session (a fresh id at every login) and records the person's sign-in.
pub fn start_session(db: &Db, acc: &Account, addr: &str) -> Result<(String, String)> {
    let token = random_token();
    let csrf = random_token();
    let now = unix_now();
    let at = db.now();
    db.write(|tx| {
        tx.execute(
            "INSERT INTO web_sessions (token_hash, account_id, csrf, created_at, last_seen) VALUES (?1, ?2, ?3, ?4, ?4)",
            params![token_hash(&token), acc.id, csrf, now],
        )?;
        // After the report a sign-in opens a web session and nothing else: no attendance, no
        // audit row (DOMAIN decision 3).
        if store::is_reported(tx)? {
            return Ok(());
        }
        if let Some(code) = &acc.person_code {
            let n = tx.execute(
                "INSERT OR IGNORE INTO attendance (person_code, signed_in_at, method) VALUES (?1, ?2, 'login')",
                params![code, at],
            )?;
            if n == 1 {
                store::audit(tx, &at, code, "attendance.sign_in", code, json!({ "method": "login" }))?;
            }
        }
        store::audit(tx, &at, &actor_name(acc), "login", &acc.username, json!({ "address": addr }))
    })?;
    Ok((token, csrf))
}

pub fn actor_name(acc: &Account) -> String {
    match (&acc.person_code, acc.is_desk) {
        (Some(code), _) => code.clone(),
        (None, true) => format!("desk:{}", acc.username),
        (None, false) => "admin".into(),
    }
}

/// Makes one more 会务签到员 account (签到员1, 签到员2 …) with a new password; the slip is the
/// only place the password exists.
pub fn create_desk_account(db: &Db, cost: u32, actor: &str) -> Result<Slip> {
    db.read(|c| store::rehearsal::refuse_during(c, "发放或重置密码"))?;
    let (username, password) = (new_username(), new_password());
    let hash = bcrypt::hash(&password, cost).map_err(Error::internal)?;
    let now = db.now();
    let n = db.write(|tx| {
        let n: i64 = tx.query_row("SELECT count(*) FROM accounts WHERE is_desk = 1", [], |r| r.get(0))?;
        tx.execute(
            "INSERT INTO accounts (username, password_hash, is_admin, is_desk, issued_at) VALUES (?1, ?2, 0, 1, ?3)",
            params![username, hash, now],
        )?;
        store::audit(tx, &now, actor, "account.desk", &username, json!({ "n": n + 1 }))?;
        Ok(n + 1)
    })?;
    Ok(Slip {
        code: format!("DESK{n}"),
        name: format!("签到员{n}"),
        roles: "会务签到员".into(),
        group: String::new(),
        username,
        password,
    })
}

pub struct SessionLimits {
    pub idle_secs: i64,
    pub max_secs: i64,
}

/// The account behind a session token, or None if unknown or expired (expired rows are removed).
pub fn lookup_session(db: &Db, token: &str, lim: &SessionLimits) -> Result<Option<(Account, String)>> {
    let th = token_hash(token);
    let row = db.read(|c| {
        Ok(store::row(
            c,
            "SELECT a.id, a.username, a.person_code, a.is_admin, s.csrf, s.created_at, s.last_seen, a.is_desk
             FROM web_sessions s JOIN accounts a ON a.id = s.account_id WHERE s.token_hash = ?1",
            [&th],
            |r| Ok((account(r, 7)?, r.get::<_, String>(4)?, r.get::<_, i64>(5)?, r.get::<_, i64>(6)?)),
        )
        .optional()?)
    })?;
    let Some((acc, csrf, created, last_seen)) = row else {
        return Ok(None);
    };
    let now = unix_now();
    if now - last_seen > lim.idle_secs || now - created > lim.max_secs {
        db.write(|tx| Ok(tx.execute("DELETE FROM web_sessions WHERE token_hash = ?1", [&th])?))?;
        return Ok(None);
    }
    // Touch at most once a minute: a write per page view would serialize every reader.
    if now - last_seen > 60 {
        db.write(|tx| {
            Ok(tx.execute("UPDATE web_sessions SET last_seen = ?1 WHERE token_hash = ?2", params![now, th])?)
        })?;
    }
    Ok(Some((acc, csrf)))
}

pub fn end_session(db: &Db, token: &str, acc: &Account) -> Result<()> {
    let at = db.now();
    db.write(|tx| {
        tx.execute("DELETE FROM web_sessions WHERE token_hash = ?1", [token_hash(token)])?;
        // After the report only web sessions change (DOMAIN decision 3): no audit row.
        if store::is_reported(tx)? {
            return Ok(());
        }
        store::audit(tx, &at, &actor_name(acc), "logout", &acc.username, json!({}))
    })
}

/// Failed-login throttling that cannot lock out the rightful user (kept in memory; a restart
/// forgives, which is acceptable: the passwords are long and random):
/// - per (account, client address): after `per_account` failures that pair waits, 1 minute
///   and doubling with each further failure, up to the window — someone guessing at a
///   tablet's account from their own device never locks the tablet out;
/// - per client address: `per_address` failures for any accounts in the window (high enough
///   for a venue whose Wi-Fi puts every tablet behind one NAT address);
/// - the admin account from the appliance itself (loopback) is never throttled;
/// - bounded: keys cut to 64 characters, entries forgotten after the window, at most
///   `MAX_KEYS` keys (the oldest go first).
pub struct Throttle {
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
    per_account: usize,
    per_address: usize,
    window: Duration,
}

const MAX_KEYS: usize = 10_000;

fn cut(s: &str) -> &str {
    match s.char_indices().nth(64) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

impl Throttle {
    pub fn new(per_account: u32, per_address: u32, window_minutes: u64) -> Self {
        Throttle {
            failures: Mutex::new(HashMap::new()),
            per_account: per_account.max(1) as usize,
            per_address: per_address.max(1) as usize,
            window: Duration::from_secs(window_minutes.max(1) * 60),
        }
    }

    fn exempt(username: &str, addr: &str) -> bool {
        username == "admin" && addr.parse::<std::net::IpAddr>().is_ok_and(|a| a.is_loopback())
    }

    fn keys(username: &str, addr: &str) -> (String, String) {
        (format!("u:{}\u{0}{}", cut(username), cut(addr)), format!("a:{}", cut(addr)))
    }

    /// Seconds until this account may try again from this address, if it must wait now.
    pub fn blocked(&self, username: &str, addr: &str) -> Option<u64> {
        if Self::exempt(username, addr) {
            return None;
        }
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let (pair, address) = Self::keys(username, addr);
        let mut wait: Option<u64> = None;
        let mut more = |w: Duration| {
            let secs = w.as_secs() + 1;
            wait = Some(wait.map_or(secs, |x| x.max(secs)));
        };
        if let Some(q) = map.get_mut(&pair) {
            q.retain(|t| now.duration_since(*t) <= self.window);
            if q.len() >= self.per_account {
                let doublings = (q.len() - self.per_account).min(16) as u32;
                let delay = Duration::from_secs(60 * 2u64.pow(doublings)).min(self.window);
                if let Some(last) = q.back() {
                    let since = now.duration_since(*last);
                    if since < delay {
                        more(delay - since);
                    }
                }
            }
        }
        if let Some(q) = map.get_mut(&address) {
            q.retain(|t| now.duration_since(*t) <= self.window);
            if q.len() >= self.per_address {
                let oldest = q[q.len() - self.per_address];
                more(self.window.saturating_sub(now.duration_since(oldest)));
            }
        }
        wait
    }

    pub fn failure(&self, username: &str, addr: &str) {
        if Self::exempt(username, addr) {
            return;
        }
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        if map.len() >= MAX_KEYS {
            // Forget what the window has passed; if still full, the keys whose last failure is oldest.
            map.retain(|_, q| q.back().is_some_and(|t| now.duration_since(*t) <= self.window));
            while map.len() >= MAX_KEYS {
                let Some(oldest) = map.iter().min_by_key(|(_, q)| q.back().copied()).map(|(k, _)| k.clone()) else {
                    break;
                };
                map.remove(&oldest);
            }
        }
        let (pair, address) = Self::keys(username, addr);
        for key in [pair, address] {
            let q = map.entry(key).or_default();
            q.push_back(now);
            while q.len() > self.per_address.max(self.per_account) + 1 {
                q.pop_front();
            }
        }
    }

    /// A successful sign-in clears that account's count from that address.
    pub fn success(&self, username: &str, addr: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(&Self::keys(username, addr).0);
    }

    /// How many keys are held (for the bound's test).
    pub fn keys_held(&self) -> usize {
        self.failures.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_credentials_avoid_lookalikes() {
        for _ in 0..200 {
            let u = new_username();
            let p = new_password();
            assert_eq!(u.len(), USER_LEN);
            assert_eq!(p.len(), PASS_LEN);
            assert!(u.chars().next().unwrap().is_ascii_lowercase());
            for c in u.chars().chain(p.chars()) {
                assert!(!"0O1lIio".contains(c), "look-alike {c} in {u}/{p}");
            }
        }
    }

    /// This test expected "account locked from any address" before: that lock let anyone on the
    /// LAN lock the admin (a public username) out for good. Now the pair waits, not the account.
    #[test]
    fn throttle_never_locks_the_rightful_user_out() {
        let t = Throttle::new(3, 10, 15);
        for _ in 0..2 {
            t.failure("u", "10.0.0.9");
        }
        assert!(t.blocked("u", "10.0.0.9").is_none());
        t.failure("u", "10.0.0.9");
        assert!(t.blocked("u", "10.0.0.9").is_some(), "the guessing device waits");
        assert!(t.blocked("u", "10.0.0.2").is_none(), "the rightful user's own device does not");
        t.success("u", "10.0.0.9");
        assert!(t.blocked("u", "10.0.0.9").is_none());
        // The wait doubles with each further failure, up to the window.
        for _ in 0..3 {
            t.failure("u", "10.0.0.9");
        }
        let first = t.blocked("u", "10.0.0.9").unwrap();
        t.failure("u", "10.0.0.9");
        let second = t.blocked("u", "10.0.0.9").unwrap();
        assert!(first <= 61 && second > 100 && second <= 121, "{first} {second}");
        // Per address: failures for any accounts (7 so far from this address).
        for u in ["v", "w", "y"] {
            assert!(t.blocked(u, "10.0.0.9").is_none());
            t.failure(u, "10.0.0.9");
        }
        assert!(t.blocked("x", "10.0.0.9").is_some(), "address limit for any account");
        // The admin on the appliance itself is never throttled.
        for _ in 0..10 {
            t.failure("admin", "127.0.0.1");
        }
        assert!(t.blocked("admin", "127.0.0.1").is_none());
    }

    #[test]
    fn throttle_state_is_bounded() {
        let t = Throttle::new(5, 300, 15);
        let long = "x".repeat(250_000);
        t.failure(&long, "10.0.0.1");
        for i in 0..(MAX_KEYS + 500) {
            t.failure(&format!("user{i}"), "10.0.0.1");
        }
        assert!(t.keys_held() <= MAX_KEYS, "{}", t.keys_held());
        let bytes: usize = t.failures.lock().unwrap().keys().map(String::len).sum();
        assert!(bytes < MAX_KEYS * 80, "keys are cut: {bytes} bytes");
    }

    #[test]
    fn dummy_hash_is_a_valid_bcrypt_hash() {
        assert!(bcrypt::verify("x", DUMMY_HASH).is_ok());
    }
}
