//! The bundle's JSON files as types (BUNDLE.md), written once: the writer (`bundle::produce`)
//! builds these and serializes them, `verify` deserializes the same types. A key that is
//! missing or renamed fails verification by its name ("missing field `present`") instead of
//! reading as empty or zero.
//!
//! Fields that older formats lack are `Option`s with `#[serde(default)]`; `verify` requires them
//! for the formats that have them. Every other `Option` is a key that must be there, possibly
//! `null` (`required`). Field order is the files' key order.

use crate::rules::{Decision, Outcome, RoundPresence};
use serde::{Deserialize, Deserializer, Serialize};

/// A key that must be present, whose value may be `null` (serde would otherwise read a missing
/// `Option` as `None`, the silent default this module exists to prevent).
fn required<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    Option::<T>::deserialize(d)
}

/// A nullable key that newer formats have: `None` when missing, `Some(None)` when `null`.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

// ---- manifest.json ----

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileEntry {
    pub path: String,
    pub size: u64,
    pub sha256: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    /// From format 2: written during a rehearsal (彩排), never a result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rehearsal: Option<bool>,
    pub session_id: String,
    pub session_name: String,
    pub package_sha256: String,
    /// From format 3: the office key the package's signature was checked with at import, or
    /// `null` (来源未验证). Outer `None`: the key is missing (formats 1 and 2).
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub office_key_id: Option<Option<String>>,
    pub created_at: String,
    pub appliance_version: String,
    pub key_id: String,
    pub public_key: String,
    pub audit_head: String,
    pub files: Vec<FileEntry>,
}

// ---- results.json ----

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Results {
    pub format: String,
    pub session: SessionRulesOut,
    #[serde(deserialize_with = "required")]
    pub reported_at: Option<String>,
    pub quorum: QuorumOut,
    pub attendance: Vec<MemberOut>,
    pub applicants: Vec<ApplicantOut>,
    pub rounds: Vec<RoundOut>,
}

/// The session and its rules, as codes (`rules::SessionRules::parse` reads them back).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionRulesOut {
    pub id: String,
    pub name: String,
    pub committee: String,
    pub mode: String,
    pub committee_pass_ratio: String,
    pub quorum_ratio: String,
    pub group_pass_rule: String,
    pub score_rule: String,
    pub recused_count_as_present: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct QuorumOut {
    pub members: u64,
    pub present: u64,
    pub needed: u64,
    pub reached: bool,
}

/// A committee member's attendance: first sign-in, staff check-in, 离场, and per round.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MemberOut {
    pub code: String,
    pub name: String,
    pub chair: bool,
    pub reporter: bool,
    #[serde(deserialize_with = "required")]
    pub first_sign_in: Option<String>,
    pub staff_check_in: bool,
    #[serde(deserialize_with = "required")]
    pub left_at: Option<String>,
    pub rounds: Vec<MemberRound>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MemberRound {
    pub round: i64,
    pub presence: RoundPresence,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApplicantOut {
    pub code: String,
    pub name: String,
    pub unit: String,
    /// `null`: sent straight to the committee.
    #[serde(deserialize_with = "required")]
    pub group: Option<String>,
    pub group_name: String,
    pub specialty: String,
    #[serde(deserialize_with = "required")]
    pub score: Option<String>,
    #[serde(deserialize_with = "required")]
    pub group_result: Option<GroupResult>,
    #[serde(deserialize_with = "required")]
    pub committee_result: Option<CommitteeResult>,
    pub outcome: Outcome,
}

/// The group's closed round that decided, its tally, and the leader's word.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GroupResult {
    #[serde(deserialize_with = "required")]
    pub round: Option<i64>,
    #[serde(flatten)]
    pub counts: Counts,
    /// From format 2 (`verify` requires it there).
    #[serde(default)]
    pub decision: Option<Decision>,
    #[serde(deserialize_with = "required")]
    pub computed_passed: Option<bool>,
    #[serde(deserialize_with = "required")]
    pub passed: Option<bool>,
    pub override_reason: String,
    pub evaluation: String,
    pub opinion: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CommitteeResult {
    #[serde(deserialize_with = "required")]
    pub round: Option<i64>,
    #[serde(flatten)]
    pub counts: Counts,
    pub needed: u64,
    /// From format 2 (`verify` requires it there).
    #[serde(default)]
    pub decision: Option<Decision>,
    #[serde(deserialize_with = "required")]
    pub passed: Option<bool>,
    pub opinion: String,
}

/// A tally as stated in results.json: the counts, the voters present (the threshold's
/// denominator) and, from format 2, those eligible. One shape for a round's tally and for an
/// applicant's group and committee results (flattened into each).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub agree: u64,
    pub oppose: u64,
    pub abstain: u64,
    pub present: u64,
    /// From format 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eligible: Option<u64>,
}

impl Counts {
    pub fn of(t: &crate::ballot::Tally) -> Counts {
        Counts { agree: t.agree, oppose: t.oppose, abstain: t.abstain, present: t.present, eligible: Some(t.eligible) }
    }
}

/// One round of either stage with its tallies.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RoundOut {
    pub stage: String,
    pub scope: String,
    pub round: i64,
    pub status: String,
    pub reason: String,
    #[serde(deserialize_with = "required")]
    pub opened_at: Option<String>,
    #[serde(deserialize_with = "required")]
    pub closed_at: Option<String>,
    pub applicants: Vec<String>,
    pub tallies: Vec<RoundTally>,
    /// From format 3 (DOMAIN, paper rounds): `electronic` or `paper`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub medium: Option<String>,
    /// From format 3: why the round was held on paper (empty for an electronic round).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub medium_reason: Option<String>,
    /// From format 3: whether a switch to paper voided the round (status `void`), and why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub void: Option<bool>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub void_reason: Option<Option<String>>,
    /// From format 3: a counted paper round's two identical tally entries, by two clerks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entries: Option<Vec<PaperEntry>>,
}

/// One clerk's entry of a paper round's tally sheet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaperEntry {
    pub clerk: String,
    pub entered_at: String,
    pub issued: u64,
    pub returned: u64,
    pub invalid: u64,
    pub counts: Vec<PaperCount>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaperCount {
    pub applicant: String,
    pub agree: u64,
    pub oppose: u64,
    pub abstain: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RoundTally {
    #[serde(flatten)]
    pub counts: Counts,
    pub applicant: String,
}

// ---- attendance.json ----

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Attendance {
    pub format: String,
    pub recused_count_as_present: bool,
    pub rounds: Vec<AttendanceRound>,
    /// From format 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staff_check_ins: Option<Vec<StaffCheckIn>>,
    /// From format 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub left: Option<Vec<Left>>,
    pub recusals: Vec<Recusal>,
}

/// Who was frozen as a voter when a round opened, and who signed in only after (迟到).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AttendanceRound {
    pub stage: String,
    pub scope: String,
    pub round: i64,
    pub opened_at: String,
    pub present: Vec<String>,
    /// From format 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub late: Option<Vec<String>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StaffCheckIn {
    pub code: String,
    pub at: String,
    #[serde(deserialize_with = "required")]
    pub left_at: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Left {
    pub code: String,
    pub at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Recusal {
    pub expert: String,
    pub applicant: String,
    pub source: String,
}

// ---- ballots.json ----

/// One secret ballot: no voter, no time. Borrowed (`&str`) when written one line at a time,
/// owned when read back.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Ballot<S = String> {
    pub stage: S,
    pub scope: S,
    pub round: i64,
    pub applicant: S,
    pub choice: S,
    /// From format 3: a ballot of a round voided by the switch to paper — kept sealed in the
    /// record, counting for nothing. Absent on every counted ballot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub void: Option<bool>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Ballots {
    pub format: String,
    pub ballots: Vec<Ballot>,
}

/// Parses one of the bundle's JSON files into its type; the error names the file and, from
/// serde, the key ("results.json: missing field `present` at line 40 column 5").
pub fn parse<T: serde::de::DeserializeOwned>(name: &str, bytes: &[u8]) -> Result<T, String> {
    serde_json::from_slice(bytes).map_err(|e| format!("{name}: {e}"))
}
