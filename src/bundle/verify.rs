//! `pingshen verify`: checks a result bundle offline, trusting nothing inside it, in the order
//! of BUNDLE.md. Each check prints one line; the first failure stops the run.

use super::model::{self, Attendance, Ballots, Manifest, Results};
use super::{CONTENT_FILES, MANIFEST, SIG, SUMS};
use crate::rules::{self, Decision, SessionRules};
use minisign::{PublicKey, SignatureBox};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::io::Read;
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Pass,
    Warn,
    Fail,
}

#[derive(Debug, Clone)]
pub struct Check {
    pub name: &'static str,
    pub outcome: Outcome,
    pub detail: String,
}

impl std::fmt::Display for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let tag = match self.outcome {
            Outcome::Pass => "OK  ",
            Outcome::Warn => "WARN",
            Outcome::Fail => "FAIL",
        };
        write!(f, "[{tag}] {}: {}", self.name, self.detail)
    }
}

pub const CHECKS: &[&str] = &["signature", "files", "hashes", "audit chain", "recount", "key", "result"];

type Files = BTreeMap<String, Vec<u8>>;
type Step<'a> = (&'static str, &'a dyn Fn() -> Result<(Outcome, String), String>);

/// Reads a bundle: the zip, or a directory of its files.
pub fn read_bundle(path: &Path) -> Result<Files, String> {
    let mut files = Files::new();
    if path.is_dir() {
        for e in std::fs::read_dir(path).map_err(|e| format!("cannot read {}: {e}", path.display()))? {
            let e = e.map_err(|e| e.to_string())?;
            if e.path().is_file() {
                files.insert(
                    e.file_name().to_string_lossy().into_owned(),
                    std::fs::read(e.path()).map_err(|e| e.to_string())?,
                );
            }
        }
        return Ok(files);
    }
    let f = std::fs::File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    let mut z = zip::ZipArchive::new(f).map_err(|e| format!("{} is not a zip: {e}", path.display()))?;
    for i in 0..z.len() {
        let mut entry = z.by_index(i).map_err(|e| e.to_string())?;
        if entry.is_dir() {
            continue;
        }
        let name = entry.name().map_err(|e| e.to_string())?.to_string();
        let mut buf = Vec::new();
        entry.by_ref().take(1 << 31).read_to_end(&mut buf).map_err(|e| e.to_string())?;
        files.insert(name, buf);
    }
    Ok(files)
}

/// One of the bundle's JSON files, read into its type (`model`): a missing or renamed key fails
/// here, by name.
fn typed<T: serde::de::DeserializeOwned>(files: &Files, name: &str) -> Result<T, String> {
    model::parse(name, files.get(name).ok_or(format!("{name} missing"))?)
}

fn manifest(files: &Files) -> Result<Manifest, String> {
    typed(files, MANIFEST)
}

/// Format 1 bundles predate `rehearsal`, `eligible`, `decision` and the per-round 迟到 lists.
fn is_format_1(m: &Manifest) -> bool {
    m.format == "pingshen-bundle/1"
}

/// Runs every check in order; stops at the first failure.
pub fn verify(files: &Files, pinned: Option<&PublicKey>) -> Vec<Check> {
    let mut out = Vec::new();
    let steps: [Step; 7] = [
        ("signature", &|| signature(files)),
        ("files", &|| completeness(files)),
        ("hashes", &|| hashes(files)),
        ("audit chain", &|| audit_chain(files)),
        ("recount", &|| recount(files)),
        ("key", &|| key_pin(files, pinned)),
        ("result", &|| not_rehearsal(files)),
    ];
    for (name, step) in steps {
        match step() {
            Ok((outcome, detail)) => out.push(Check { name, outcome, detail }),
            Err(detail) => {
                out.push(Check { name, outcome: Outcome::Fail, detail });
                break;
            }
        }
    }
    out
}

pub fn passed(checks: &[Check]) -> bool {
    checks.len() == CHECKS.len() && checks.iter().all(|c| c.outcome != Outcome::Fail)
}

fn manifest_key(files: &Files) -> Result<PublicKey, String> {
    let m = manifest(files)?;
    PublicKey::from_base64(&m.public_key).map_err(|e| format!("manifest public_key is not a minisign key: {e}"))
}

/// (session id, audit head) from the trusted comment.
fn trusted(files: &Files) -> Result<(String, String), String> {
    let sig = SignatureBox::from_string(&String::from_utf8_lossy(files.get(SIG).ok_or("SHA256SUMS.minisig missing")?))
        .map_err(|e| format!("SHA256SUMS.minisig unreadable: {e}"))?;
    let c = sig.trusted_comment().map_err(|e| e.to_string())?;
    let rest = ["pingshen-bundle/3 session:", "pingshen-bundle/2 session:", "pingshen-bundle/1 session:"]
        .iter()
        .find_map(|p| c.strip_prefix(p))
        .ok_or(format!("unexpected trusted comment: {c}"))?;
    let (id, head) = rest.split_once(" audit_head:").ok_or(format!("unexpected trusted comment: {c}"))?;
    Ok((id.to_string(), head.to_string()))
}

fn signature(files: &Files) -> Result<(Outcome, String), String> {
    let sums = files.get(SUMS).ok_or("SHA256SUMS missing")?;
    let sig_text = String::from_utf8_lossy(files.get(SIG).ok_or("SHA256SUMS.minisig missing")?).into_owned();
    let sig = SignatureBox::from_string(&sig_text).map_err(|e| format!("SHA256SUMS.minisig unreadable: {e}"))?;
    let pk = manifest_key(files)?;
    minisign::verify(&pk, &sig, std::io::Cursor::new(sums), true, false, false)
        .map_err(|e| format!("SHA256SUMS does not match its signature ({e})"))?;
    let (id, head) = trusted(files)?;
    Ok((
        Outcome::Pass,
        format!(
            "SHA256SUMS signed by key {}; trusted comment: session {id}, audit head {head}",
            super::key::key_id(&pk)
        ),
    ))
}

fn sums_entries(files: &Files) -> Result<Vec<(String, String)>, String> {
    let text =
        std::str::from_utf8(files.get(SUMS).ok_or("SHA256SUMS missing")?).map_err(|_| "SHA256SUMS is not text")?;
    text.lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (h, n) = l.split_once("  ").ok_or(format!("bad SHA256SUMS line: {l}"))?;
            Ok((h.to_string(), n.to_string()))
        })
        .collect()
}

fn completeness(files: &Files) -> Result<(Outcome, String), String> {
    let mut expected: BTreeSet<String> = CONTENT_FILES.iter().map(|s| s.to_string()).collect();
    expected.insert(MANIFEST.into());
    let listed: BTreeSet<String> = sums_entries(files)?.into_iter().map(|(_, n)| n).collect();
    if listed != expected {
        return Err(format!("SHA256SUMS lists {listed:?}, expected {expected:?}"));
    }
    expected.insert(SUMS.into());
    expected.insert(SIG.into());
    let actual: BTreeSet<String> = files.keys().cloned().collect();
    let missing: Vec<_> = expected.difference(&actual).collect();
    let extra: Vec<_> = actual.difference(&expected).collect();
    if !missing.is_empty() || !extra.is_empty() {
        return Err(format!("missing {missing:?}, extra {extra:?}"));
    }
    Ok((Outcome::Pass, format!("{} files, none missing, none extra", actual.len())))
}

fn hashes(files: &Files) -> Result<(Outcome, String), String> {
    for (h, n) in sums_entries(files)? {
        let got = crate::ids::sha256_hex(&files[&n]);
        if got != h {
            return Err(format!("{n}: SHA-256 {got} but SHA256SUMS says {h}"));
        }
    }
    let m = manifest(files)?;
    let mut seen = HashSet::new();
    for f in &m.files {
        let n = f.path.as_str();
        let b = files.get(n).ok_or(format!("manifest lists {n}, which is missing"))?;
        if f.size != b.len() as u64 {
            return Err(format!("{n}: size {} but manifest says {}", b.len(), f.size));
        }
        if f.sha256 != crate::ids::sha256_hex(b) {
            return Err(format!("{n}: SHA-256 differs from the manifest"));
        }
        seen.insert(n.to_string());
    }
    let content: HashSet<String> = CONTENT_FILES.iter().map(|s| s.to_string()).collect();
    if seen != content {
        return Err("manifest.json does not list exactly the content files".into());
    }
    let (id, head) = trusted(files)?;
    if m.session_id != id || m.audit_head != head {
        return Err("manifest session id or audit head differs from the signed trusted comment".into());
    }
    Ok((Outcome::Pass, format!("{} files match SHA256SUMS and the manifest", files.len() - 2)))
}

fn audit_chain(files: &Files) -> Result<(Outcome, String), String> {
    let text = std::str::from_utf8(files.get("audit.jsonl").ok_or("audit.jsonl missing")?)
        .map_err(|_| "audit.jsonl is not UTF-8")?;
    let mut prev = crate::store::GENESIS.to_string();
    let mut last_action = String::new();
    let mut n = 0i64;
    for line in text.lines() {
        n += 1;
        let v: serde_json::Value =
            serde_json::from_str(line).map_err(|e| format!("audit line {n} is not JSON: {e}"))?;
        if v["seq"].as_i64() != Some(n) {
            return Err(format!("audit line {n} has seq {}", v["seq"]));
        }
        if v["prev"].as_str() != Some(prev.as_str()) {
            return Err(format!("audit line {n} does not chain to the line before"));
        }
        last_action = v["action"].as_str().unwrap_or("").to_string();
        prev = crate::ids::sha256_hex(line.as_bytes());
    }
    if last_action != "audit.close" {
        return Err("the audit log does not end with its closing line".into());
    }
    let (_, head) = trusted(files)?;
    if prev != head {
        return Err(format!("the chain ends at {prev}, the signature names {head}"));
    }
    Ok((Outcome::Pass, format!("{n} lines chained to the signed head {head}")))
}

#[derive(Default, Clone, Copy, PartialEq, Eq, Debug)]
struct Count {
    agree: u64,
    oppose: u64,
    abstain: u64,
    present: u64,
    eligible: u64,
}

/// A stated tally; format 1 results carry no `eligible`, so it is taken from the recount.
fn count_of(stated: &model::Counts, recount: &Count) -> Count {
    let model::Counts { agree, oppose, abstain, present, eligible } = *stated;
    Count { agree, oppose, abstain, present, eligible: eligible.unwrap_or(recount.eligible) }
}

/// Recounts `ballots.json` against `attendance.json` and compares with `results.json`, applying
/// the same threshold functions the appliance uses.
pub fn recount(files: &Files) -> Result<(Outcome, String), String> {
    let m = manifest(files)?;
    let format1 = is_format_1(&m);
    // Format 3 adds paper rounds (DOMAIN, "Paper rounds"): every round states its medium,
    // whether it is void and why, and a counted paper round its two clerks' entries.
    let format3 = !matches!(m.format.as_str(), "pingshen-bundle/1" | "pingshen-bundle/2");
    let results: Results = typed(files, "results.json")?;
    let attendance: Attendance = typed(files, "attendance.json")?;
    let ballots: Ballots = typed(files, "ballots.json")?;
    let s = &results.session;
    let session = SessionRules::parse(
        &s.mode,
        &s.committee_pass_ratio,
        &s.quorum_ratio,
        &s.group_pass_rule,
        &s.score_rule,
        s.recused_count_as_present,
    )
    .map_err(|e| format!("results.json: {e}"))?;
    // What format 2 adds must be there in format 2, by name.
    let need = |what: Option<u64>, field: &str, code: &str| -> Result<(), String> {
        match (what, format1) {
            (None, false) => Err(format!("results.json: {code}: missing field `{field}`")),
            _ => Ok(()),
        }
    };
    type Key = (String, String, i64);
    let mut present: HashMap<Key, HashSet<String>> = HashMap::new();
    for r in &attendance.rounds {
        if r.late.is_none() && !format1 {
            return Err(format!("attendance.json: round {} {} {}: missing field `late`", r.stage, r.scope, r.round));
        }
        present.insert((r.stage.clone(), r.scope.clone(), r.round), r.present.iter().cloned().collect());
    }
    let recused: HashSet<(String, String)> =
        attendance.recusals.iter().map(|r| (r.expert.clone(), r.applicant.clone())).collect();
    // The void rounds, checked first: each says why, and the next round of its scope holds the
    // same applicants on paper (a switch to paper never drops or adds anyone).
    let mut void_rounds: HashSet<Key> = HashSet::new();
    let mut paper_rounds = 0usize;
    if format3 {
        for r in &results.rounds {
            let missing =
                |f: &str| format!("results.json: round {} {} {}: missing field `{f}`", r.stage, r.scope, r.round);
            for (field, there) in [
                ("medium", r.medium.is_some()),
                ("medium_reason", r.medium_reason.is_some()),
                ("void", r.void.is_some()),
                ("void_reason", r.void_reason.is_some()),
                ("entries", r.entries.is_some()),
            ] {
                if !there {
                    return Err(missing(field));
                }
            }
        }
    }
    for r in &results.rounds {
        let k: Key = (r.stage.clone(), r.scope.clone(), r.round);
        if format3 {
            let medium = r.medium.as_deref().unwrap_or_default();
            let void = r.void.unwrap_or_default();
            let reason = r.void_reason.clone().unwrap_or_default();
            if !matches!(medium, "electronic" | "paper") {
                return Err(format!("results.json: round {k:?}: medium {medium:?}"));
            }
            if void != (r.status == "void") {
                return Err(format!("results.json: round {k:?}: status {} but void is {void}", r.status));
            }
            if void {
                if reason.as_deref().is_none_or(|x| x.trim().is_empty()) {
                    return Err(format!("results.json: void round {k:?} without a reason"));
                }
                let next =
                    results.rounds.iter().find(|n| n.stage == r.stage && n.scope == r.scope && n.round == r.round + 1);
                match next {
                    Some(n) if n.medium.as_deref() == Some("paper") && n.applicants == r.applicants => {}
                    _ => {
                        return Err(format!("void round {k:?} is not followed by a paper round of the same applicants"))
                    }
                }
                void_rounds.insert(k);
            }
        } else if r.status == "void" {
            return Err(format!("results.json: round {k:?}: a void round in a format before 3"));
        }
    }
    let mut counts: HashMap<(Key, String), Count> = HashMap::new();
    let all = &ballots.ballots;
    let mut void_ballots = 0usize;
    for b in all {
        let round: Key = (b.stage.clone(), b.scope.clone(), b.round);
        // A void round's ballots are kept sealed and count for nothing; a ballot marked void
        // must belong to a void round (a flipped flag is caught both ways).
        match (b.void, void_rounds.contains(&round)) {
            (Some(true), true) => {
                void_ballots += 1;
                continue;
            }
            (Some(true), false) => {
                return Err(format!("ballots.json: a ballot marked void in round {round:?}, which is not void"))
            }
            (_, true) => return Err(format!("ballots.json: a ballot of void round {round:?} not marked void")),
            _ => {}
        }
        let k = (round, b.applicant.clone());
        let c = counts.entry(k).or_default();
        match b.choice.as_str() {
            "agree" => c.agree += 1,
            "oppose" => c.oppose += 1,
            "abstain" => c.abstain += 1,
            other => return Err(format!("ballots.json: unknown choice {other:?}")),
        }
    }
    let mut used = 0usize;
    // (stage, applicant) → (round, recount) of the latest closed round holding the applicant.
    let mut latest: HashMap<(String, String), (i64, Count)> = HashMap::new();
    let mut rounds: Vec<&model::RoundOut> = results.rounds.iter().collect();
    rounds.sort_by_key(|r| r.round);
    for r in rounds {
        if r.status != "closed" {
            continue;
        }
        let k: Key = (r.stage.clone(), r.scope.clone(), r.round);
        let voters = present.get(&k).ok_or(format!("attendance.json lacks {k:?}"))?;
        let stated_by: HashMap<&str, &model::RoundTally> =
            r.tallies.iter().map(|t| (t.applicant.as_str(), t)).collect();
        let paper = if r.medium.as_deref() == Some("paper") {
            paper_rounds += 1;
            Some(paper_tally(&k, r, voters, &recused)?)
        } else {
            None
        };
        for a in &r.applicants {
            let rec = voters.iter().filter(|v| recused.contains(&((*v).clone(), a.clone()))).count() as u64;
            let ballots = counts.get(&(k.clone(), a.clone())).copied();
            let mut c = match &paper {
                // A paper round has no electronic ballots; its count is the clerks' entry.
                Some(p) => {
                    if ballots.is_some() {
                        return Err(format!("ballots.json: electronic ballots for paper round {k:?}"));
                    }
                    p.get(a).copied().ok_or(format!("paper round {k:?}: no count for {a}"))?
                }
                None => ballots.unwrap_or_default(),
            };
            let cast = c.agree + c.oppose + c.abstain;
            let n = voters.len() as u64;
            c.eligible = rules::eligible(n, rec);
            if cast > c.eligible {
                return Err(format!("{k:?} {a}: {cast} ballots for {} eligible voters", c.eligible));
            }
            if paper.is_none() {
                used += cast as usize;
            }
            c.present = rules::present(&session, n, rec);
            let t = stated_by.get(a.as_str()).ok_or(format!("results.json: round {k:?} has no tally for {a}"))?;
            need(t.counts.eligible, "eligible", a)?;
            let stated = count_of(&t.counts, &c);
            if stated != c {
                return Err(format!("{k:?} {a}: results.json says {stated:?}, the ballots give {c:?}"));
            }
            latest.insert((k.0.clone(), a.clone()), (k.2, c));
        }
    }
    if used + void_ballots != all.len() {
        return Err(format!("{} ballots belong to no closed round", all.len() - used - void_ballots));
    }
    let mut decided = 0;
    let mut no_decision = 0;
    for a in &results.applicants {
        let code = a.code.clone();
        // The group's final word: None for an applicant sent straight to the committee,
        // Some(None) when nobody in the group could vote on it (no decision).
        let group_word = if a.group.is_none() {
            None
        } else {
            let (round, c) =
                latest.get(&("group".into(), code.clone())).ok_or(format!("{code}: no closed group round"))?;
            let g = a.group_result.as_ref().ok_or(format!("{code}: no group result"))?;
            need(g.counts.eligible, "group_result.eligible", &code)?;
            if g.round != Some(*round) || count_of(&g.counts, c) != *c {
                return Err(format!("{code}: the group result differs from the recount"));
            }
            let decision = rules::group_decision(&session, c.agree, c.present, c.eligible);
            if !format1 && g.decision != Some(decision) {
                return Err(format!("{code}: the group's rule gives {decision:?}, results.json says otherwise"));
            }
            match decision.passed() {
                None => {
                    if g.passed.is_some() {
                        return Err(format!("{code}: marked by the group though nobody could vote on it"));
                    }
                    Some(None)
                }
                Some(computed) => {
                    if g.computed_passed != Some(computed) {
                        return Err(format!("{code}: the group's rule gives {computed}, results.json says otherwise"));
                    }
                    let passed = g.passed.ok_or(format!("{code}: no group decision"))?;
                    if passed != computed && g.override_reason.trim().is_empty() {
                        return Err(format!("{code}: the group decision differs from its rule without a reason"));
                    }
                    Some(Some(passed))
                }
            }
        };
        let cm = a.committee_result.as_ref();
        let committee = match (latest.get(&("committee".into(), code.clone())), cm) {
            (None, None) => None,
            (None, Some(_)) => return Err(format!("{code}: a committee result without a closed committee round")),
            (Some(_), None) => return Err(format!("{code}: a closed committee round but no committee result")),
            (Some((round, c)), Some(cm)) => {
                need(cm.counts.eligible, "committee_result.eligible", &code)?;
                let needed = rules::votes_needed(&session, c.present);
                let decision = rules::committee_decision(&session, c.agree, c.present, c.eligible);
                if cm.round != Some(*round)
                    || count_of(&cm.counts, c) != *c
                    || cm.needed != needed
                    || cm.passed != decision.passed()
                    || (!format1 && cm.decision != Some(decision))
                {
                    return Err(format!("{code}: the committee result differs from the recount"));
                }
                Some(decision)
            }
        };
        if group_word.is_some_and(|w| w != Some(true)) && committee.is_some() {
            return Err(format!("{code}: reached the committee without passing its group"));
        }
        let outcome = rules::outcome(group_word, committee);
        if a.outcome != outcome {
            return Err(format!("{code}: outcome {} but the recount gives {}", a.outcome.code(), outcome.code()));
        }
        if committee == Some(Decision::NoDecision) || group_word == Some(None) {
            no_decision += 1;
        }
        decided += 1;
    }
    Ok((
        Outcome::Pass,
        format!(
            "{} ballots recounted ({void_ballots} of void rounds, sealed, not counted); {paper_rounds} paper rounds' \
             double entries equal and consistent; {decided} applicants' tallies and outcomes agree \
             ({no_decision} without a decision)",
            all.len()
        ),
    ))
}

/// A counted paper round's tally from its two clerks' entries: exactly two, by different
/// clerks, identical, and consistent (returned ≤ issued ≤ voters, invalid ≤ returned, each
/// applicant's marks ≤ the valid ballots and ≤ its eligible voters). Per applicant, its count.
fn paper_tally(
    k: &(String, String, i64),
    r: &model::RoundOut,
    voters: &HashSet<String>,
    recused: &HashSet<(String, String)>,
) -> Result<HashMap<String, Count>, String> {
    let entries = r.entries.as_deref().unwrap_or_default();
    let [a, b] = entries else {
        return Err(format!("paper round {k:?}: {} tally entries, not two", entries.len()));
    };
    if a.clerk == b.clerk {
        return Err(format!("paper round {k:?}: both entries by {}", a.clerk));
    }
    let strip = |e: &model::PaperEntry| (e.issued, e.returned, e.invalid, e.counts.clone());
    if strip(a) != strip(b) {
        return Err(format!("paper round {k:?}: the two clerks' entries differ"));
    }
    let n = voters.len() as u64;
    if a.issued > n || a.returned > a.issued || a.invalid > a.returned {
        return Err(format!(
            "paper round {k:?}: issued {} / returned {} / invalid {} for {n} voters",
            a.issued, a.returned, a.invalid
        ));
    }
    let listed: Vec<&String> = a.counts.iter().map(|c| &c.applicant).collect();
    if listed != r.applicants.iter().collect::<Vec<_>>() {
        return Err(format!("paper round {k:?}: the entry's applicants are not the round's"));
    }
    let mut out = HashMap::new();
    for c in &a.counts {
        let sum = c.agree + c.oppose + c.abstain;
        let rec = voters.iter().filter(|v| recused.contains(&((*v).clone(), c.applicant.clone()))).count() as u64;
        if sum > a.returned - a.invalid || sum > rules::eligible(n, rec) {
            return Err(format!(
                "paper round {k:?} {}: {sum} marks exceed the valid ballots or eligible voters",
                c.applicant
            ));
        }
        out.insert(
            c.applicant.clone(),
            Count { agree: c.agree, oppose: c.oppose, abstain: c.abstain, present: 0, eligible: 0 },
        );
    }
    Ok(out)
}

/// A bundle written during a rehearsal (彩排, DOMAIN) can never be taken for a result, however
/// well it verifies otherwise. Format 1 bundles predate rehearsals.
fn not_rehearsal(files: &Files) -> Result<(Outcome, String), String> {
    let m = manifest(files)?;
    match m.rehearsal {
        Some(true) => Err("彩排 — not a result: this bundle was written during a rehearsal".into()),
        Some(false) => Ok((Outcome::Pass, "the result of the real session, not a rehearsal".into())),
        None if is_format_1(&m) => Ok((Outcome::Pass, "the result of the real session, not a rehearsal".into())),
        None => Err("manifest.json: missing field `rehearsal`".into()),
    }
}

fn key_pin(files: &Files, pinned: Option<&PublicKey>) -> Result<(Outcome, String), String> {
    let pk = manifest_key(files)?;
    let m = manifest(files)?;
    // From format 3 the manifest says how the package got in: checked against an office key,
    // or not (来源未验证).
    let origin = match (&m.office_key_id, m.format.as_str()) {
        (Some(Some(id)), _) => format!("; the package was verified against office key {id}"),
        (Some(None), _) => {
            "; the package's origin was NOT verified (no office key was set at import: 来源未验证)".into()
        }
        (None, "pingshen-bundle/1" | "pingshen-bundle/2") => String::new(),
        (None, _) => return Err("manifest.json: missing field `office_key_id`".into()),
    };
    let (outcome, detail) = key_check(&pk, pinned)?;
    Ok((outcome, format!("{detail}{origin}")))
}

fn key_check(pk: &PublicKey, pinned: Option<&PublicKey>) -> Result<(Outcome, String), String> {
    let pk = pk.clone();
    match pinned {
        None => Ok((
            Outcome::Warn,
            format!(
                "key {} NOT PINNED: pass --pubkey with the key the office recorded before the meeting",
                super::key::key_id(&pk)
            ),
        )),
        Some(p) if p.to_bytes() == pk.to_bytes() => {
            Ok((Outcome::Pass, format!("the bundle's key {} is the pinned key", super::key::key_id(&pk))))
        }
        Some(p) => {
            Err(format!("signed by key {}, but the pinned key is {}", super::key::key_id(&pk), super::key::key_id(p)))
        }
    }
}
