//! The schema, as a ladder of numbered migrations on `PRAGMA user_version`.
//! Add a migration by appending to `MIGRATIONS`; never edit one that has shipped.

use crate::error::{Error, Result};
use rusqlite::Connection;

const MIGRATIONS: &[&str] = &[
    // 1: the imported session, people, accounts, web sessions, attendance, audit.
    r#"
CREATE TABLE session (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    session_id TEXT NOT NULL,
    name TEXT NOT NULL,
    committee TEXT NOT NULL,
    mode TEXT NOT NULL CHECK (mode IN ('expert_review','lecture_defense','interview_defense')),
    committee_pass_ratio TEXT NOT NULL,
    quorum_ratio TEXT NOT NULL,
    group_pass_rule TEXT NOT NULL,
    score_rule TEXT NOT NULL,
    recused_count_as_present INTEGER NOT NULL,
    blind INTEGER NOT NULL,
    extra TEXT NOT NULL,
    package_sha256 TEXT NOT NULL,
    package_source TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    is_demo INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE groups (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    leader TEXT NOT NULL,
    ord INTEGER NOT NULL,
    extra TEXT NOT NULL
);
CREATE TABLE experts (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    gender TEXT NOT NULL,
    phone TEXT NOT NULL,
    id_number TEXT NOT NULL,
    unit TEXT NOT NULL,
    title TEXT NOT NULL,
    title_level TEXT NOT NULL,
    specialty TEXT NOT NULL,
    group_code TEXT REFERENCES groups(code),
    ord INTEGER NOT NULL,
    extra TEXT NOT NULL
);
CREATE TABLE committee (
    expert_code TEXT PRIMARY KEY REFERENCES experts(code),
    is_chair INTEGER NOT NULL,
    is_reporter INTEGER NOT NULL,
    ord INTEGER NOT NULL
);
CREATE TABLE applicants (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    unit TEXT NOT NULL,
    series TEXT NOT NULL,
    specialty TEXT NOT NULL,
    title TEXT NOT NULL,
    review_type TEXT NOT NULL,
    group_code TEXT REFERENCES groups(code),
    lecture_order INTEGER,
    lecture_room TEXT NOT NULL,
    lecture_topic TEXT NOT NULL,
    lecture_chapter TEXT NOT NULL,
    lecture_textbook TEXT NOT NULL,
    details TEXT NOT NULL,
    extra TEXT NOT NULL,
    ord INTEGER NOT NULL
);
CREATE INDEX applicants_group ON applicants(group_code, ord);
CREATE TABLE materials (
    id INTEGER PRIMARY KEY,
    applicant_code TEXT NOT NULL REFERENCES applicants(code),
    ord INTEGER NOT NULL,
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    UNIQUE (applicant_code, path)
);
CREATE TABLE recusals (
    expert_code TEXT NOT NULL REFERENCES experts(code),
    applicant_code TEXT NOT NULL REFERENCES applicants(code),
    source TEXT NOT NULL CHECK (source IN ('unit','list')),
    reason TEXT NOT NULL,
    PRIMARY KEY (expert_code, applicant_code)
);
CREATE TABLE accounts (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT,
    person_code TEXT UNIQUE,
    is_admin INTEGER NOT NULL DEFAULT 0,
    issued_at TEXT
);
CREATE TABLE web_sessions (
    token_hash TEXT PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    csrf TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_seen INTEGER NOT NULL
);
CREATE TABLE attendance (
    person_code TEXT PRIMARY KEY REFERENCES experts(code),
    signed_in_at TEXT NOT NULL,
    method TEXT NOT NULL CHECK (method IN ('login','admin'))
);
-- The audit log is a hash chain: `line` is the canonical JSON of the event including the
-- SHA-256 of the previous line (`prev`), and `hash` is the SHA-256 of `line`.
CREATE TABLE audit (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    object TEXT NOT NULL,
    details TEXT NOT NULL,
    line TEXT NOT NULL,
    hash TEXT NOT NULL
);
"#,
    // 2: the voting protocol (both stages) and the group stage's work.
    r#"
CREATE TABLE votes (
    id INTEGER PRIMARY KEY,
    stage TEXT NOT NULL CHECK (stage IN ('group','committee')),
    scope TEXT NOT NULL,
    round INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('drafting','open','closed')),
    reason TEXT NOT NULL,
    created_at TEXT NOT NULL,
    opened_at TEXT,
    closed_at TEXT,
    UNIQUE (stage, scope, round)
);
CREATE TABLE vote_applicants (
    vote_id INTEGER NOT NULL REFERENCES votes(id),
    applicant_code TEXT NOT NULL REFERENCES applicants(code),
    PRIMARY KEY (vote_id, applicant_code)
);
-- Who may vote in a round, frozen when it opens, and whether they have submitted. No time and
-- no link to the ballots: participation and choices are kept apart.
CREATE TABLE vote_voters (
    vote_id INTEGER NOT NULL REFERENCES votes(id),
    voter_code TEXT NOT NULL REFERENCES experts(code),
    submitted INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (vote_id, voter_code)
);
CREATE TABLE drafts (
    vote_id INTEGER NOT NULL REFERENCES votes(id),
    voter_code TEXT NOT NULL,
    applicant_code TEXT NOT NULL,
    choice TEXT NOT NULL CHECK (choice IN ('agree','oppose','abstain')),
    opinion TEXT NOT NULL,
    PRIMARY KEY (vote_id, voter_code, applicant_code)
);
-- Secret ballots: a random id as the key of a WITHOUT ROWID table, so neither rowid nor
-- storage order follows submission order; no voter, no time.
CREATE TABLE ballots (
    id TEXT PRIMARY KEY,
    vote_id INTEGER NOT NULL REFERENCES votes(id),
    applicant_code TEXT NOT NULL,
    choice TEXT NOT NULL CHECK (choice IN ('agree','oppose','abstain')),
    opinion TEXT NOT NULL
) WITHOUT ROWID;
-- Covering, so a round's tally reads the index alone.
CREATE INDEX ballots_vote ON ballots(vote_id, applicant_code, choice, opinion);
CREATE TABLE lead_reviewers (
    applicant_code TEXT NOT NULL REFERENCES applicants(code),
    expert_code TEXT NOT NULL REFERENCES experts(code),
    PRIMARY KEY (applicant_code, expert_code)
);
CREATE TABLE lead_opinions (
    applicant_code TEXT NOT NULL REFERENCES applicants(code),
    expert_code TEXT NOT NULL REFERENCES experts(code),
    text TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (applicant_code, expert_code)
);
CREATE TABLE interview_questions (
    applicant_code TEXT NOT NULL REFERENCES applicants(code),
    expert_code TEXT NOT NULL REFERENCES experts(code),
    text TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (applicant_code, expert_code)
);
CREATE TABLE scores (
    applicant_code TEXT NOT NULL REFERENCES applicants(code),
    expert_code TEXT NOT NULL REFERENCES experts(code),
    tenths INTEGER NOT NULL CHECK (tenths BETWEEN 0 AND 1000),
    updated_at TEXT NOT NULL,
    PRIMARY KEY (applicant_code, expert_code)
);
CREATE TABLE group_decisions (
    applicant_code TEXT PRIMARY KEY REFERENCES applicants(code),
    passed INTEGER NOT NULL,
    override_reason TEXT NOT NULL,
    evaluation TEXT NOT NULL,
    opinion TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE group_submissions (
    group_code TEXT PRIMARY KEY REFERENCES groups(code),
    submitted_at TEXT NOT NULL,
    submitted_by TEXT NOT NULL
);
"#,
    // 3: the committee stage: the reporter's opinions and the session's state flags.
    r#"
CREATE TABLE committee_opinions (
    applicant_code TEXT PRIMARY KEY REFERENCES applicants(code),
    opinion TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"#,
    // 4: indexes the venue load test showed missing (recusals and lead reviewers looked up by
    // applicant / by expert scanned the whole table once per row of a list page).
    r#"
CREATE INDEX recusals_applicant ON recusals(applicant_code);
CREATE INDEX lead_reviewers_expert ON lead_reviewers(expert_code);
CREATE INDEX scores_expert ON scores(expert_code);
"#,
];

pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Applies the missing migrations, each in its own transaction; refuses a newer database.
pub fn migrate(conn: &mut Connection) -> Result<()> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if current > SCHEMA_VERSION {
        return Err(Error::internal(format!(
            "database schema version {current} is newer than this pingshen knows ({SCHEMA_VERSION}); use a newer pingshen"
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let version = i as i64 + 1;
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", version)?;
        tx.commit()?;
        log::info!("database migrated to schema version {version}");
    }
    Ok(())
}
