//! The rules of the day, in one place: pure functions over counts, no database, no HTTP.
//! The group stage, the committee stage, the bundle writer and `pingshen verify` all call
//! these; nothing else computes a threshold, a denominator or an aggregate score.
//!
//! Where each rule of `../shared/spec/DOMAIN.md` lives:
//!
//! | DOMAIN.md | here |
//! |---|---|
//! | The three review modes | [`Mode`] |
//! | National rules: pass when agree ≥ 2/3 of those present (integer math, abstain weighs like no) | [`committee_decision`], [`votes_needed`], [`Ratio::reached`] |
//! | National rules: quorum, present ≥ 2/3 of the members | [`quorum`] |
//! | National rules: recused members leave the denominator unless the session counts them | [`present`], [`SessionRules::recused_count_as_present`] |
//! | Group pass rule (default: agree > half of the group present), a session setting | [`GroupRule`], [`group_decision`] |
//! | Lecture/interview scores: mean, or trimmed mean (drop highest and lowest), 得分 to one decimal | [`ScoreRule`], [`aggregate_score`], [`parse_score`] |
//! | Decision 2: no decision without eligible voters; p/q never reached with 0 of 0 | [`eligible`], [`Decision::NoDecision`], [`Ratio::reached`] |
//! | Decision 2: the final outcome, `no_decision` apart | [`Outcome`], [`outcome`] |
//! | Decision 4: present means frozen at the switch (one definition for quorum and threshold) | [`present_members`] |
//! | Decision 4: signed in after a round opened = 迟到 for that round | [`RoundPresence`], [`round_presence`] |
//! | Paper rounds: the same rules from the two clerks' identical tally (a blank, invalid or missing ballot weighs like no) | the functions above, fed by `ballot::tally` from `ballot::paper`; the entry checks (returned ≤ issued, marks ≤ valid ballots and eligible voters) in `ballot::paper` |
//!
//! The session's rules are parsed once, at import ([`SessionRules::parse`]); a stored value
//! that does not parse is an error, never a silent default.

use serde::{Deserialize, Serialize};
use std::fmt;

/// 评审模式.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    ExpertReview,
    LectureDefense,
    InterviewDefense,
}

impl Mode {
    pub const ALL: [Mode; 3] = [Mode::ExpertReview, Mode::LectureDefense, Mode::InterviewDefense];
    pub fn code(self) -> &'static str {
        match self {
            Mode::ExpertReview => "expert_review",
            Mode::LectureDefense => "lecture_defense",
            Mode::InterviewDefense => "interview_defense",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Mode::ExpertReview => "专家评审",
            Mode::LectureDefense => "专家评审+讲课答辩",
            Mode::InterviewDefense => "专家答辩+面试答辩",
        }
    }
    /// Accepts the JSON code or the Chinese label (with either plus sign, spaces ignored).
    pub fn parse(s: &str) -> Option<Mode> {
        let norm: String = s.chars().filter(|c| !c.is_whitespace()).collect::<String>().replace('＋', "+");
        Mode::ALL.into_iter().find(|m| m.code() == norm || m.label() == norm)
    }
    /// Whether the group experts score a defense before the group vote.
    pub fn has_scores(self) -> bool {
        self != Mode::ExpertReview
    }
}

/// A fraction p/q with 0 < p ≤ q ≤ 1000; thresholds compare with integer math only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ratio {
    pub p: u32,
    pub q: u32,
}

impl Ratio {
    pub const TWO_THIRDS: Ratio = Ratio { p: 2, q: 3 };

    pub fn parse(s: &str) -> Option<Ratio> {
        let (a, b) = s.trim().split_once('/')?;
        let p: u32 = a.trim().parse().ok()?;
        let q: u32 = b.trim().parse().ok()?;
        (p > 0 && q > 0 && p <= q && q <= 1000).then_some(Ratio { p, q })
    }
    /// `count / total ≥ p/q`, i.e. `count × q ≥ total × p`; never reached with a total of 0
    /// (DOMAIN decision 2: no "0 of 0 passes").
    pub fn reached(self, count: u64, total: u64) -> bool {
        total > 0 && count * self.q as u64 >= total * self.p as u64
    }
    /// The least count that reaches the ratio of `total`: ⌈total × p / q⌉ (25 present → 17).
    pub fn needed(self, total: u64) -> u64 {
        (total * self.p as u64).div_ceil(self.q as u64)
    }
}

impl fmt::Display for Ratio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.p, self.q)
    }
}

/// The group's pass rule (专业组通过规则).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupRule {
    /// agree × 2 > present (the default).
    MoreThanHalf,
    /// agree × q ≥ present × p.
    AtLeast(Ratio),
}

impl GroupRule {
    pub fn parse(s: &str) -> Option<GroupRule> {
        match s.trim() {
            "more_than_half" | "过半数" => Some(GroupRule::MoreThanHalf),
            other => Ratio::parse(other).map(GroupRule::AtLeast),
        }
    }
    pub fn code(self) -> String {
        match self {
            GroupRule::MoreThanHalf => "more_than_half".into(),
            GroupRule::AtLeast(r) => r.to_string(),
        }
    }
    /// As an office sheet writes it (and `parse` reads it back): 过半数 or `p/q`.
    pub fn short_label(self) -> String {
        match self {
            GroupRule::MoreThanHalf => "过半数".into(),
            GroupRule::AtLeast(r) => r.to_string(),
        }
    }
    pub fn label(self) -> String {
        match self {
            GroupRule::MoreThanHalf => "同意票过半数".into(),
            GroupRule::AtLeast(r) => format!("同意票不少于 {r}"),
        }
    }
    /// The least agree count that passes among `present`.
    pub fn needed(self, present: u64) -> u64 {
        match self {
            GroupRule::MoreThanHalf => present / 2 + 1,
            GroupRule::AtLeast(r) => r.needed(present),
        }
    }
    fn reached(self, agree: u64, present: u64) -> bool {
        match self {
            GroupRule::MoreThanHalf => agree * 2 > present,
            GroupRule::AtLeast(r) => r.reached(agree, present),
        }
    }
}

/// How the defense scores of one applicant become its 得分.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScoreRule {
    Mean,
    TrimmedMean,
}

impl ScoreRule {
    pub const ALL: [ScoreRule; 2] = [ScoreRule::Mean, ScoreRule::TrimmedMean];
    pub fn parse(s: &str) -> Option<ScoreRule> {
        let s = s.trim();
        ScoreRule::ALL.into_iter().find(|r| r.code() == s || r.short_label() == s)
    }
    /// As an office sheet writes it (and `parse` reads it back).
    pub fn short_label(self) -> &'static str {
        match self {
            ScoreRule::Mean => "平均分",
            ScoreRule::TrimmedMean => "去掉最高最低分",
        }
    }
    pub fn code(self) -> &'static str {
        match self {
            ScoreRule::Mean => "mean",
            ScoreRule::TrimmedMean => "trimmed_mean",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            ScoreRule::Mean => "平均分",
            ScoreRule::TrimmedMean => "去掉一个最高分和一个最低分后的平均分",
        }
    }
}

/// The session's rules, typed. Serialized with the codes and labels the pages print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionRules {
    pub mode: Mode,
    pub committee_pass: Ratio,
    pub quorum: Ratio,
    pub group_pass: GroupRule,
    pub score: ScoreRule,
    pub recused_count_as_present: bool,
}

impl SessionRules {
    /// Parses stored or bundled rule codes; the error names the first field that is wrong.
    pub fn parse(
        mode: &str,
        committee_pass: &str,
        quorum: &str,
        group_pass: &str,
        score: &str,
        recused_count_as_present: bool,
    ) -> Result<SessionRules, String> {
        let bad = |field: &str, v: &str| format!("session rule {field} has an invalid value {v:?}");
        Ok(SessionRules {
            mode: Mode::parse(mode).ok_or_else(|| bad("mode", mode))?,
            committee_pass: Ratio::parse(committee_pass).ok_or_else(|| bad("committee_pass_ratio", committee_pass))?,
            quorum: Ratio::parse(quorum).ok_or_else(|| bad("quorum_ratio", quorum))?,
            group_pass: GroupRule::parse(group_pass).ok_or_else(|| bad("group_pass_rule", group_pass))?,
            score: ScoreRule::parse(score).ok_or_else(|| bad("score_rule", score))?,
            recused_count_as_present,
        })
    }
}

impl Serialize for SessionRules {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("SessionRules", 10)?;
        st.serialize_field("mode", self.mode.code())?;
        st.serialize_field("mode_label", self.mode.label())?;
        st.serialize_field("committee_pass_ratio", &self.committee_pass.to_string())?;
        st.serialize_field("quorum_ratio", &self.quorum.to_string())?;
        st.serialize_field("group_pass_rule", &self.group_pass.code())?;
        st.serialize_field("group_pass_label", &self.group_pass.label())?;
        st.serialize_field("score_rule", self.score.code())?;
        st.serialize_field("score_label", self.score.label())?;
        st.serialize_field("recused_count_as_present", &self.recused_count_as_present)?;
        st.serialize_field("has_scores", &self.mode.has_scores())?;
        st.end()
    }
}

/// Voters of a round for one applicant who may vote on it: the round's frozen voters less
/// those recused from it (DOMAIN decision 2).
pub fn eligible(voters: u64, recused: u64) -> u64 {
    voters.saturating_sub(recused)
}

/// The threshold's denominator for one applicant ("present"): the round's frozen voters, less
/// those recused from the applicant unless the session counts them as present.
pub fn present(rules: &SessionRules, voters: u64, recused: u64) -> u64 {
    if rules.recused_count_as_present {
        voters
    } else {
        eligible(voters, recused)
    }
}

/// What a closed round decides for one applicant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Passed,
    Failed,
    /// 无法表决（回避后无有效表决人）: nobody eligible voted on it (DOMAIN decision 2).
    NoDecision,
}

impl Decision {
    /// `Some(passed)`, or `None` for no decision.
    pub fn passed(self) -> Option<bool> {
        match self {
            Decision::Passed => Some(true),
            Decision::Failed => Some(false),
            Decision::NoDecision => None,
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Decision::Passed => "通过",
            Decision::Failed => "未通过",
            Decision::NoDecision => NO_DECISION_LABEL,
        }
    }
}

pub const NO_DECISION_LABEL: &str = "无法表决（回避后无有效表决人）";

/// The committee's decision on one applicant: agree × q ≥ present × p (national rule: agree
/// votes reach 2/3 of the experts present; an abstention weighs like a no), or no decision
/// when no eligible voter remained.
pub fn committee_decision(rules: &SessionRules, agree: u64, present: u64, eligible: u64) -> Decision {
    decide(eligible, rules.committee_pass.reached(agree, present))
}

/// No eligible voter: no decision, whatever the threshold says (DOMAIN decision 2).
fn decide(eligible: u64, reached: bool) -> Decision {
    match (eligible, reached) {
        (0, _) => Decision::NoDecision,
        (_, true) => Decision::Passed,
        (_, false) => Decision::Failed,
    }
}

/// Agree votes the committee needs among `present` (25 → 17 at 2/3).
pub fn votes_needed(rules: &SessionRules, present: u64) -> u64 {
    rules.committee_pass.needed(present)
}

/// What the group's rule computes for one applicant (the leader may override it with a
/// written reason, except for no decision, which nobody can mark).
pub fn group_decision(rules: &SessionRules, agree: u64, present: u64, eligible: u64) -> Decision {
    decide(eligible, rules.group_pass.reached(agree, present))
}

/// The quorum (出席要求): present × q ≥ members × p.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Quorum {
    pub members: u64,
    pub present: u64,
    pub needed: u64,
    pub ratio: String,
    pub reached: bool,
}

pub fn quorum(rules: &SessionRules, members: u64, present: u64) -> Quorum {
    let r = rules.quorum;
    Quorum { members, present, needed: r.needed(members), ratio: r.to_string(), reached: r.reached(present, members) }
}

/// The committee's "present" (DOMAIN decision 4), one definition for the quorum and the
/// threshold: once the committee's first round has opened, its frozen voters; before that, the
/// members who would be frozen if it opened now (signed in or checked in, not marked 离场).
pub fn present_members(frozen: Option<u64>, would_be_frozen_now: u64) -> u64 {
    frozen.unwrap_or(would_be_frozen_now)
}

/// One person in one round (DOMAIN decision 4): a voter (frozen at the switch), 迟到 (first
/// signed in after it opened), or absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoundPresence {
    Voter,
    Late,
    Absent,
}

impl RoundPresence {
    pub fn label(self) -> &'static str {
        match self {
            RoundPresence::Voter => "出席",
            RoundPresence::Late => "迟到",
            RoundPresence::Absent => "缺席",
        }
    }
}

/// Whether someone was a voter of a round, late for it, or absent. Times are the session's
/// own timestamps (one offset, whole seconds), compared as strings; someone not frozen who
/// signed in within the second the round opened came after it.
pub fn round_presence(is_voter: bool, first_sign_in: Option<&str>, opened_at: &str) -> RoundPresence {
    match (is_voter, first_sign_in) {
        (true, _) => RoundPresence::Voter,
        (false, Some(t)) if t >= opened_at => RoundPresence::Late,
        _ => RoundPresence::Absent,
    }
}

/// The final outcome of one applicant (results.json `outcome`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Passed,
    FailedGroup,
    FailedCommittee,
    NoDecision,
}

impl Outcome {
    pub fn code(self) -> &'static str {
        match self {
            Outcome::Passed => "passed",
            Outcome::FailedGroup => "failed_group",
            Outcome::FailedCommittee => "failed_committee",
            Outcome::NoDecision => "no_decision",
        }
    }
}

/// The outcome from the group's final word (`None` for an applicant sent straight to the
/// committee; `Some(None)` for a group no decision) and the committee's decision (`None` if
/// the committee never voted on the applicant).
pub fn outcome(group: Option<Option<bool>>, committee: Option<Decision>) -> Outcome {
    match group {
        Some(None) => Outcome::NoDecision,
        Some(Some(false)) => Outcome::FailedGroup,
        _ => match committee {
            Some(Decision::Passed) => Outcome::Passed,
            Some(Decision::NoDecision) => Outcome::NoDecision,
            _ => Outcome::FailedCommittee,
        },
    }
}

/// "85.5" → 855 tenths; 0–100 with at most one decimal.
pub fn parse_score(s: &str) -> Option<i64> {
    let s = s.trim();
    let (whole, frac) = match s.split_once('.') {
        Some((w, f)) => (w, f),
        None => (s, ""),
    };
    if whole.is_empty()
        || whole.len() > 3
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || frac.len() > 1
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let tenths = whole.parse::<i64>().ok()? * 10 + frac.parse::<i64>().unwrap_or(0);
    (0..=1000).contains(&tenths).then_some(tenths)
}

pub fn format_tenths(t: i64) -> String {
    format!("{}.{}", t / 10, t % 10)
}

/// The applicant's 得分 in tenths, rounded half up: the mean, or with `trimmed_mean` the mean
/// after dropping one highest and one lowest score when five or more experts scored.
pub fn aggregate_score(scores: &[i64], rule: ScoreRule) -> Option<i64> {
    if scores.is_empty() {
        return None;
    }
    let mut v = scores.to_vec();
    v.sort_unstable();
    let used: &[i64] = if rule == ScoreRule::TrimmedMean && v.len() >= 5 { &v[1..v.len() - 1] } else { &v };
    let sum: i64 = used.iter().sum();
    let n = used.len() as i64;
    Some((2 * sum + n) / (2 * n))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(group: &str, counted: bool) -> SessionRules {
        SessionRules::parse("expert_review", "2/3", "2/3", group, "mean", counted).unwrap()
    }

    #[test]
    fn ratios_parse_and_compare_in_integer_math() {
        let r = Ratio::TWO_THIRDS;
        // (count, total, reached)
        for (count, total, want) in
            [(17, 25, true), (16, 25, false), (2, 3, true), (1, 3, false), (0, 0, false), (6, 9, true), (5, 9, false)]
        {
            assert_eq!(r.reached(count, total), want, "{count}/{total}");
        }
        assert_eq!(Ratio::parse("3/2"), None);
        assert_eq!(Ratio::parse("0/3"), None);
        assert_eq!(Ratio::parse("2/0"), None);
        assert_eq!(Ratio::parse("2/1001"), None);
        assert_eq!(Ratio::parse("abc"), None);
        assert_eq!(Ratio::parse(" 1 / 2 "), Some(Ratio { p: 1, q: 2 }));
    }

    #[test]
    fn committee_threshold_at_every_boundary() {
        let r = rules("more_than_half", false);
        // (agree, present, eligible, decision, needed)
        let table = [
            (17, 25, 25, Decision::Passed, 17),
            (16, 25, 25, Decision::Failed, 17),
            (16, 24, 24, Decision::Passed, 16), // 25 voters, one recused: 16 of 24 passes
            (15, 24, 24, Decision::Failed, 16),
            (2, 3, 3, Decision::Passed, 2),
            (0, 1, 1, Decision::Failed, 1),
            (0, 0, 0, Decision::NoDecision, 0),
            (0, 3, 0, Decision::NoDecision, 2), // all three recused but counted as present
        ];
        for (agree, present, eligible, want, needed) in table {
            assert_eq!(committee_decision(&r, agree, present, eligible), want, "{agree}/{present}");
            assert_eq!(votes_needed(&r, present), needed, "needed of {present}");
        }
    }

    #[test]
    fn recusal_leaves_the_denominator_unless_counted() {
        assert_eq!(present(&rules("more_than_half", false), 25, 1), 24);
        assert_eq!(present(&rules("more_than_half", true), 25, 1), 25);
        assert_eq!(eligible(25, 1), 24);
        assert_eq!(eligible(3, 3), 0);
        // 16 agree of 25 voters with one recused: passes when the recused one leaves the
        // denominator, fails when counted as present.
        let out = rules("more_than_half", false);
        let counted = rules("more_than_half", true);
        assert_eq!(committee_decision(&out, 16, present(&out, 25, 1), eligible(25, 1)), Decision::Passed);
        assert_eq!(committee_decision(&counted, 16, present(&counted, 25, 1), eligible(25, 1)), Decision::Failed);
    }

    #[test]
    fn group_rules_at_every_boundary() {
        let half = rules("more_than_half", false);
        let two_thirds = rules("2/3", false);
        // (rule, agree, present, eligible, decision)
        let table = [
            (&half, 2, 4, 4, Decision::Failed), // 2 of 4 is not more than half
            (&half, 3, 4, 4, Decision::Passed),
            (&half, 2, 3, 3, Decision::Passed),
            (&half, 0, 0, 0, Decision::NoDecision),
            (&two_thirds, 2, 3, 3, Decision::Passed),
            (&two_thirds, 3, 5, 5, Decision::Failed),
            (&two_thirds, 4, 6, 6, Decision::Passed),
            (&two_thirds, 0, 0, 0, Decision::NoDecision),
        ];
        for (r, agree, present, eligible, want) in table {
            assert_eq!(group_decision(r, agree, present, eligible), want, "{:?} {agree}/{present}", r.group_pass);
        }
        assert_eq!(GroupRule::MoreThanHalf.needed(4), 3);
        assert_eq!(GroupRule::MoreThanHalf.needed(3), 2);
    }

    #[test]
    fn quorum_boundaries() {
        let r = rules("more_than_half", false);
        assert!(!quorum(&r, 25, 16).reached);
        assert!(quorum(&r, 25, 17).reached);
        assert_eq!(quorum(&r, 25, 0).needed, 17);
        assert_eq!(quorum(&r, 9, 6).needed, 6);
        assert!(quorum(&r, 9, 6).reached);
        assert!(!quorum(&r, 9, 5).reached);
        assert!(!quorum(&r, 0, 0).reached, "an empty committee has no quorum");
        assert_eq!(present_members(Some(17), 20), 17, "frozen at the switch: later sign-ins do not count");
        assert_eq!(present_members(None, 20), 20);
    }

    #[test]
    fn presence_per_round() {
        let opened = "2026-12-05T09:00:00.000Z";
        assert_eq!(round_presence(true, Some("2026-12-05T08:00:00.000Z"), opened), RoundPresence::Voter);
        assert_eq!(round_presence(false, Some("2026-12-05T09:30:00.000Z"), opened), RoundPresence::Late);
        assert_eq!(round_presence(false, Some(opened), opened), RoundPresence::Late, "same second, not frozen");
        assert_eq!(round_presence(false, None, opened), RoundPresence::Absent);
        // Signed in before, but not a voter (marked 离场): absent, not late.
        assert_eq!(round_presence(false, Some("2026-12-05T08:00:00.000Z"), opened), RoundPresence::Absent);
    }

    #[test]
    fn outcomes() {
        use Decision::*;
        assert_eq!(outcome(Some(Some(true)), Some(Passed)), Outcome::Passed);
        assert_eq!(outcome(Some(Some(true)), Some(Failed)), Outcome::FailedCommittee);
        assert_eq!(outcome(Some(Some(false)), None), Outcome::FailedGroup);
        assert_eq!(outcome(Some(None), None), Outcome::NoDecision);
        assert_eq!(outcome(None, Some(Passed)), Outcome::Passed);
        assert_eq!(outcome(None, Some(NoDecision)), Outcome::NoDecision);
        assert_eq!(outcome(None, None), Outcome::FailedCommittee);
    }

    #[test]
    fn scores_parse_and_aggregate() {
        assert_eq!(parse_score("85.5"), Some(855));
        assert_eq!(parse_score("100"), Some(1000));
        assert_eq!(parse_score("0"), Some(0));
        assert_eq!(parse_score("100.1"), None);
        assert_eq!(parse_score("85.55"), None);
        assert_eq!(parse_score("-1"), None);
        assert_eq!(parse_score("abc"), None);
        assert_eq!(parse_score("99999999999999999999"), None);
        assert_eq!(aggregate_score(&[850, 865, 900], ScoreRule::Mean), Some(872)); // 87.1666 → 87.2
                                                                                   // Five scorers: drop 60.0 and 99.0 → (80 + 85 + 90) / 3 = 85.0
        assert_eq!(aggregate_score(&[600, 800, 850, 900, 990], ScoreRule::TrimmedMean), Some(850));
        assert_eq!(aggregate_score(&[600, 800, 850, 900, 990], ScoreRule::Mean), Some(828));
        // Four scorers: nothing dropped even under trimmed_mean.
        assert_eq!(aggregate_score(&[600, 800, 850, 900], ScoreRule::TrimmedMean), Some(788));
        assert_eq!(aggregate_score(&[850, 851], ScoreRule::Mean), Some(851), "85.05 rounds half up");
        assert_eq!(aggregate_score(&[], ScoreRule::Mean), None);
        assert_eq!(format_tenths(872), "87.2");
    }

    #[test]
    fn session_rules_parse_once_and_name_the_bad_field() {
        let r = SessionRules::parse("讲课答辩", "2/3", "2/3", "2/3", "trimmed_mean", true);
        assert!(r.is_err(), "讲课答辩 alone is not a mode label");
        let r = SessionRules::parse("lecture_defense", "2/3", "3/2", "more_than_half", "mean", false).unwrap_err();
        assert!(r.contains("quorum_ratio"), "{r}");
        let r = SessionRules::parse("interview_defense", "1/2", "2/3", "3/4", "mean", false).unwrap();
        assert_eq!(r.group_pass, GroupRule::AtLeast(Ratio { p: 3, q: 4 }));
        assert!(r.mode.has_scores());
    }

    #[test]
    fn modes_parse_codes_and_labels() {
        assert_eq!(Mode::parse("专家评审"), Some(Mode::ExpertReview));
        assert_eq!(Mode::parse("专家评审 ＋ 讲课答辩"), Some(Mode::LectureDefense));
        assert_eq!(Mode::parse("interview_defense"), Some(Mode::InterviewDefense));
        assert_eq!(Mode::parse("committee"), None);
    }
}
