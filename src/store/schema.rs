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
    // 5: 离场 (DOMAIN decision 5): someone who left is not frozen into rounds opened later.
    r#"
ALTER TABLE attendance ADD COLUMN left_at TEXT;
"#,
    // 6: after the report nothing in the session changes (DOMAIN decision 3), held by the
    // database itself: every table but web_sessions refuses writes once `reported_at` is set
    // (the report sets it last in its transaction). A table added later needs its three here.
    // Not `ballots` and `drafts`: a row trigger there made every statement of a submission
    // keep a statement journal (the committee's 35 × 900-ballot burst: 0.7 → 2.2 s, +24 MB);
    // they are written only into open or drafting rounds, and after the report every round is
    // closed and `votes` itself is frozen, so the protocol refuses them (tested).
    r#"
CREATE TRIGGER frozen_accounts_insert BEFORE INSERT ON accounts WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'reported_at')
    BEGIN SELECT RAISE(ABORT, 'pingshen: session reported'); END;
CREATE TRIGGER frozen_accounts_update BEFORE UPDATE ON accounts WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'reported_at')
    BEGIN SELECT RAISE(ABORT, 'pingshen: session reported'); END;
CREATE TRIGGER frozen_accounts_delete BEFORE DELETE ON accounts WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'reported_at')
    BEGIN SELECT RAISE(ABORT, 'pingshen: session reported'); END;
CREATE TRIGGER frozen_applicants_insert BEFORE INSERT ON applicants WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'reported_at')
    BEGIN SELECT RAISE(ABORT, 'pingshen: session reported'); END;
CREATE TRIGGER frozen_applicants_update BEFORE UPDATE ON applicants WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'reported_at')
    BEGIN SELECT RAISE(ABORT, 'pingshen: session reported'); END;
CREATE TRIGGER frozen_applicants_delete BEFORE DELETE ON applicants WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'reported_at')
    BEGIN SELECT RAISE(ABORT, 'pingshen: session reported'); END;
CREATE TRIGGER frozen_attendance_insert BEFORE INSERT ON attendance WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'reported_at')
    BEGIN SELECT RAISE(ABORT, 'pingshen: session reported'); END;
CREATE TRIGGER frozen_attendance_update BEFORE UPDATE ON attendance WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'reported_at')
    BEGIN SELECT RAISE(ABORT, 'pingshen: session reported'); END;
CREATE TRIGGER frozen_attendance_delete BEFORE DELETE ON attendance WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'reported_at')
    BEGIN SELECT RAISE(ABORT, 'pingshen: session reported'); END;
CREATE TRIGGER frozen_audit_insert BEFORE INSERT ON audit WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'reported_at')
    BEGIN SELECT RAISE(ABORT, 'pingshen: session reported'); END;
CREATE TRIGGER frozen_audit_update BEFORE UPDATE ON audit WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'reported_at')
    BEGIN SELECT RAISE(ABORT, 'pingshen: session reported'); END;
CREATE TRIGGER frozen_audit_delete BEFORE DELETE ON audit WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'reported_at')
    BEGIN SELECT RAISE(ABORT, 'pingshen: session reported'); END;
CREATE TRIGGER frozen_committee_insert BEFORE INSERT ON committee WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'reported_at')
    BEGIN SELECT RAISE(ABORT, 'pingshen: session reported'); END;
CREATE TRIGGER frozen_committee_update BEFORE UPDATE ON committee WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'reported_at')
    BEGIN SELECT RAISE(ABORT, 'pingshen: session reported'); END;
CREATE TRIGGER frozen_committee_delete BEFORE DELETE ON committee WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'reported_at')
    BEGIN SELECT RAISE(ABORT, 'pingshen: session reported'); END;
CREATE TRIGGER frozen_committee_opinions_insert BEFORE INSERT ON committee_opinions WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'reported_at')
    BEGIN SELECT RAISE(ABORT, 'pingshen: session reported'); END;
CREATE TRIGGER frozen_committee_opinions_update BEFORE UPDATE ON committee_opinions WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'reported_at')
    BEGIN SELECT RAISE(ABORT, 'pingshen: session reported'); END;
CREATE TRIGGER frozen_committee_opinions_delete BEFORE DELETE ON committee_opinions WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'reported_at')
    BEGIN SELECT RAISE(ABORT, 'pingshen: session reported'); END;
CREATE TRIGGER frozen_experts_insert BEFORE INSERT ON experts WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'reported_at')
    BEGIN SELECT RAISE(ABORT, 'pingshen: session reported'); END;
CREATE TRIGGER frozen_experts_update BEFORE UPDATE ON experts WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'reported_at')
    BEGIN SELECT RAISE(ABORT, 'pingshen: session reported'); END;
CREATE TRIGGER frozen_experts_delete BEFORE DELETE ON experts WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'reported_at')
    BEGIN SELECT RAISE(ABORT, 'pingshen: session reported'); END;
CREATE TRIGGER frozen_group_decisions_insert BEFORE INSERT ON group_decisions WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'reported_at')
    BEGIN SELECT RAISE(ABORT, 'pingshen: session reported'); END;
CREATE TRIGGER frozen_group_decisions_update BEFORE UPDATE ON group_decisions WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'reported_at')
    BEGIN SELECT RAISE(ABORT, 'pingshen: session reported'); END;
CREATE TRIGGER frozen_group_decisions_delete BEFORE DELETE ON group_decisions WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'reported_at')
    BEGIN SELECT RAISE(ABORT, 'pingshen: session reported'); END;
CREATE TRIGGER frozen_group_submissions_insert BEFORE INSERT ON group_submissions WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'reported_at')
    BEGIN SELECT RAISE(ABORT, 'pingshen: session reported'); END;
CREATE TRIGGER frozen_group_submissions_update BEFORE UPDATE ON group_submissions WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'reported_at')
    BEGIN SELECT RAISE(ABORT, 'pingshen: session reported'); END;
CREATE TRIGGER frozen_group_submissions_delete BEFORE DELETE ON group_submissions WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'reported_at')
    BEGIN SELECT RAISE(ABORT, 'pingshen: session reported'); END;
CREATE TRIGGER frozen_groups_insert BEFORE INSERT ON groups WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'reported_at')
    BEGIN SELECT RAISE(ABORT, 'pingshen: session reported'); END;
CREATE TRIGGER frozen_groups_update BEFORE UPDATE ON groups WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'reported_at')
    BEGIN SELECT RAISE(ABORT, 'pingshen: session reported'); END;
CREATE TRIGGER frozen_groups_delete BEFORE DELETE ON groups WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'reported_at')
    BEGIN SELECT RAISE(ABORT, 'pingshen: session reported'); END;
CREATE TRIGGER frozen_interview_questions_insert BEFORE INSERT ON interview_questions WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'reported_at')
    BEGIN SELECT RAISE(ABORT, 'pingshen: session reported'); END;
CREATE TRIGGER frozen_interview_questions_update BEFORE UPDATE ON interview_questions WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'reported_at')
    BEGIN SELECT RAISE(ABORT, 'pingshen: session reported'); END;
CREATE TRIGGER frozen_interview_questions_delete BEFORE DELETE ON interview_questions WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'reported_at')
    BEGIN SELECT RAISE(ABORT, 'pingshen: session reported'); END;
CREATE TRIGGER frozen_lead_opinions_insert BEFORE INSERT ON lead_opinions WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'reported_at')
    BEGIN SELECT RAISE(ABORT, 'pingshen: session reported'); END;
CREATE TRIGGER frozen_lead_opinions_update BEFORE UPDATE ON lead_opinions WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'reported_at')
    BEGIN SELECT RAISE(ABORT, 'pingshen: session reported'); END;
CREATE TRIGGER frozen_lead_opinions_delete BEFORE DELETE ON lead_opinions WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'reported_at')
    BEGIN SELECT RAISE(ABORT, 'pingshen: session reported'); END;
CREATE TRIGGER frozen_lead_reviewers_insert BEFORE INSERT ON lead_reviewers WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'reported_at')
    BEGIN SELECT RAISE(ABORT, 'pingshen: session reported'); END;
CREATE TRIGGER frozen_lead_reviewers_update BEFORE UPDATE ON lead_reviewers WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'reported_at')
    BEGIN SELECT RAISE(ABORT, 'pingshen: session reported'); END;
CREATE TRIGGER frozen_lead_reviewers_delete BEFORE DELETE ON lead_reviewers WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'reported_at')
    BEGIN SELECT RAISE(ABORT, 'pingshen: session reported'); END;
CREATE TRIGGER frozen_materials_insert BEFORE INSERT ON materials WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'reported_at')
    BEGIN SELECT RAISE(ABORT, 'pingshen: session reported'); END;
CREATE TRIGGER frozen_materials_update BEFORE UPDATE ON materials WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'reported_at')
    BEGIN SELECT RAISE(ABORT, 'pingshen: session reported'); END;
CREATE TRIGGER frozen_materials_delete BEFORE DELETE ON materials WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'reported_at')
    BEGIN SELECT RAISE(ABORT, 'pingshen: session reported'); END;
CREATE TRIGGER frozen_meta_insert BEFORE INSERT ON meta WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'reported_at')
    BEGIN SELECT RAISE(ABORT, 'pingshen: session reported'); END;
CREATE TRIGGER frozen_meta_update BEFORE UPDATE ON meta WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'reported_at')
    BEGIN SELECT RAISE(ABORT, 'pingshen: session reported'); END;
CREATE TRIGGER frozen_meta_delete BEFORE DELETE ON meta WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'reported_at')
    BEGIN SELECT RAISE(ABORT, 'pingshen: session reported'); END;
CREATE TRIGGER frozen_recusals_insert BEFORE INSERT ON recusals WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'reported_at')
    BEGIN SELECT RAISE(ABORT, 'pingshen: session reported'); END;
CREATE TRIGGER frozen_recusals_update BEFORE UPDATE ON recusals WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'reported_at')
    BEGIN SELECT RAISE(ABORT, 'pingshen: session reported'); END;
CREATE TRIGGER frozen_recusals_delete BEFORE DELETE ON recusals WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'reported_at')
    BEGIN SELECT RAISE(ABORT, 'pingshen: session reported'); END;
CREATE TRIGGER frozen_scores_insert BEFORE INSERT ON scores WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'reported_at')
    BEGIN SELECT RAISE(ABORT, 'pingshen: session reported'); END;
CREATE TRIGGER frozen_scores_update BEFORE UPDATE ON scores WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'reported_at')
    BEGIN SELECT RAISE(ABORT, 'pingshen: session reported'); END;
CREATE TRIGGER frozen_scores_delete BEFORE DELETE ON scores WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'reported_at')
    BEGIN SELECT RAISE(ABORT, 'pingshen: session reported'); END;
CREATE TRIGGER frozen_session_insert BEFORE INSERT ON session WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'reported_at')
    BEGIN SELECT RAISE(ABORT, 'pingshen: session reported'); END;
CREATE TRIGGER frozen_session_update BEFORE UPDATE ON session WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'reported_at')
    BEGIN SELECT RAISE(ABORT, 'pingshen: session reported'); END;
CREATE TRIGGER frozen_session_delete BEFORE DELETE ON session WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'reported_at')
    BEGIN SELECT RAISE(ABORT, 'pingshen: session reported'); END;
CREATE TRIGGER frozen_vote_applicants_insert BEFORE INSERT ON vote_applicants WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'reported_at')
    BEGIN SELECT RAISE(ABORT, 'pingshen: session reported'); END;
CREATE TRIGGER frozen_vote_applicants_update BEFORE UPDATE ON vote_applicants WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'reported_at')
    BEGIN SELECT RAISE(ABORT, 'pingshen: session reported'); END;
CREATE TRIGGER frozen_vote_applicants_delete BEFORE DELETE ON vote_applicants WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'reported_at')
    BEGIN SELECT RAISE(ABORT, 'pingshen: session reported'); END;
CREATE TRIGGER frozen_vote_voters_insert BEFORE INSERT ON vote_voters WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'reported_at')
    BEGIN SELECT RAISE(ABORT, 'pingshen: session reported'); END;
CREATE TRIGGER frozen_vote_voters_update BEFORE UPDATE ON vote_voters WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'reported_at')
    BEGIN SELECT RAISE(ABORT, 'pingshen: session reported'); END;
CREATE TRIGGER frozen_vote_voters_delete BEFORE DELETE ON vote_voters WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'reported_at')
    BEGIN SELECT RAISE(ABORT, 'pingshen: session reported'); END;
CREATE TRIGGER frozen_votes_insert BEFORE INSERT ON votes WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'reported_at')
    BEGIN SELECT RAISE(ABORT, 'pingshen: session reported'); END;
CREATE TRIGGER frozen_votes_update BEFORE UPDATE ON votes WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'reported_at')
    BEGIN SELECT RAISE(ABORT, 'pingshen: session reported'); END;
CREATE TRIGGER frozen_votes_delete BEFORE DELETE ON votes WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'reported_at')
    BEGIN SELECT RAISE(ABORT, 'pingshen: session reported'); END;
"#,
    // 7: the switch dialog asks, per voter, whether a staff check-in has a signed-in device.
    r#"
CREATE INDEX web_sessions_account ON web_sessions(account_id);
"#,
    // 8: 会务签到员 (desk staff): an account with attendance and the room-display link only.
    r#"
ALTER TABLE accounts ADD COLUMN is_desk INTEGER NOT NULL DEFAULT 0;
"#,
    // 9: a draft may hold an opinion before a choice (an opinion typed first is kept, issue
    // 26), and carries a revision: a device's save made on an older revision than the one held
    // (changed on another device meanwhile) is refused instead of silently replacing it.
    r#"
CREATE TABLE drafts_v9 (
    vote_id INTEGER NOT NULL REFERENCES votes(id),
    voter_code TEXT NOT NULL,
    applicant_code TEXT NOT NULL,
    choice TEXT CHECK (choice IS NULL OR choice IN ('agree','oppose','abstain')),
    opinion TEXT NOT NULL,
    rev INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (vote_id, voter_code, applicant_code)
);
INSERT INTO drafts_v9 (vote_id, voter_code, applicant_code, choice, opinion, rev)
    SELECT vote_id, voter_code, applicant_code, choice, opinion, 1 FROM drafts;
DROP TABLE drafts;
ALTER TABLE drafts_v9 RENAME TO drafts;
"#,
    // 10: the office key whose signature of the package was checked at import (NULL: the
    // package came without a checked signature, 来源未验证).
    r#"
ALTER TABLE session ADD COLUMN office_key_id TEXT;
"#,
    // 11: paper rounds (DOMAIN, "Paper rounds"): a round's medium and why; a round voided by a
    // switch to paper keeps its row and ballots, closed, with the reason (void_reason NOT NULL
    // = void); each clerk's tally entry of a paper round, kept whole (a replaced entry is marked
    // not current, never deleted), `attempt` counting the tries after a mismatch.
    r#"
ALTER TABLE votes ADD COLUMN medium TEXT NOT NULL DEFAULT 'electronic' CHECK (medium IN ('electronic','paper'));
ALTER TABLE votes ADD COLUMN medium_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE votes ADD COLUMN void_reason TEXT;
CREATE TABLE paper_entries (
    id INTEGER PRIMARY KEY,
    vote_id INTEGER NOT NULL REFERENCES votes(id),
    attempt INTEGER NOT NULL,
    clerk TEXT NOT NULL,
    issued INTEGER NOT NULL CHECK (issued >= 0),
    returned INTEGER NOT NULL CHECK (returned >= 0),
    invalid INTEGER NOT NULL CHECK (invalid >= 0),
    counts TEXT NOT NULL,
    entered_at TEXT NOT NULL,
    current INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX paper_entries_vote ON paper_entries(vote_id, attempt);
CREATE TRIGGER frozen_paper_entries_insert BEFORE INSERT ON paper_entries WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'reported_at')
    BEGIN SELECT RAISE(ABORT, 'pingshen: session reported'); END;
CREATE TRIGGER frozen_paper_entries_update BEFORE UPDATE ON paper_entries WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'reported_at')
    BEGIN SELECT RAISE(ABORT, 'pingshen: session reported'); END;
CREATE TRIGGER frozen_paper_entries_delete BEFORE DELETE ON paper_entries WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'reported_at')
    BEGIN SELECT RAISE(ABORT, 'pingshen: session reported'); END;
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
