//! The session package as the rest of pingshen sees it, whichever shape it came in.
//! Every entity remembers where it came from (`Src`), so a problem names its exact place.

use serde_json::{Map, Value};
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub place: String,
    pub message: String,
}

impl Problem {
    pub fn new(place: impl Into<String>, message: impl Into<String>) -> Self {
        Problem { place: place.into(), message: message.into() }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.place, self.message)
    }
}

/// Where an entity was read from: a JSON path, a spreadsheet row, or fixed places per field.
#[derive(Debug, Clone)]
pub enum Src {
    Json(String),
    Sheet { sheet: &'static str, row: usize, cols: Arc<HashMap<&'static str, usize>> },
    Places(Arc<HashMap<String, String>>, String),
}

impl Src {
    /// The place of one field (JSON field name, e.g. `group` or `materials[1]`).
    pub fn at(&self, field: &str) -> String {
        match self {
            Src::Json(p) if field.is_empty() => p.clone(),
            Src::Json(p) => format!("{p}.{field}"),
            Src::Sheet { sheet, row, cols } => {
                let base = field.split('[').next().unwrap_or(field);
                match cols.get(base) {
                    Some(c) => format!("{sheet}!{}{row}", col_letter(*c)),
                    None => format!("{sheet}!第{row}行"),
                }
            }
            Src::Places(map, default) => map.get(field).cloned().unwrap_or_else(|| default.clone()),
        }
    }
}

/// 0 → A, 25 → Z, 26 → AA.
pub fn col_letter(mut c: usize) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (c % 26) as u8);
        if c < 26 {
            break;
        }
        c = c / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).unwrap_or_default()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    ExpertReview,
    LectureDefense,
    InterviewDefense,
}

impl Mode {
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
        [Mode::ExpertReview, Mode::LectureDefense, Mode::InterviewDefense]
            .into_iter()
            .find(|m| m.code() == norm || m.label() == norm)
    }
}

/// A fraction p/q with 0 < p ≤ q; thresholds compare with integer math only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ratio {
    pub p: u32,
    pub q: u32,
}

impl Ratio {
    pub fn parse(s: &str) -> Option<Ratio> {
        let (a, b) = s.trim().split_once('/')?;
        let p: u32 = a.trim().parse().ok()?;
        let q: u32 = b.trim().parse().ok()?;
        (p > 0 && q > 0 && p <= q && q <= 1000).then_some(Ratio { p, q })
    }
    /// `count / total ≥ p/q`, i.e. `count × q ≥ total × p`.
    pub fn reached(self, count: u64, total: u64) -> bool {
        count * self.q as u64 >= total * self.p as u64
    }
}

impl fmt::Display for Ratio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.p, self.q)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupRule {
    MoreThanHalf,
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
    pub fn label(self) -> String {
        match self {
            GroupRule::MoreThanHalf => "同意票过半数".into(),
            GroupRule::AtLeast(r) => format!("同意票不少于 {r}"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScoreRule {
    Mean,
    TrimmedMean,
}

impl ScoreRule {
    pub fn parse(s: &str) -> Option<ScoreRule> {
        match s.trim() {
            "mean" | "平均分" => Some(ScoreRule::Mean),
            "trimmed_mean" | "去掉最高最低分" => Some(ScoreRule::TrimmedMean),
            _ => None,
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

#[derive(Debug, Clone)]
pub struct SessionInfo {
    pub id: String,
    pub name: String,
    pub committee: String,
    pub mode: Mode,
    pub committee_pass_ratio: Ratio,
    pub quorum_ratio: Ratio,
    pub group_pass_rule: GroupRule,
    pub score_rule: ScoreRule,
    pub recused_count_as_present: bool,
    pub blind: bool,
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone)]
pub struct Group {
    pub code: String,
    pub name: String,
    pub leader: String,
    pub extra: Map<String, Value>,
    pub src: Src,
}

#[derive(Debug, Clone)]
pub struct Expert {
    pub code: String,
    pub name: String,
    pub gender: String,
    pub phone: String,
    pub id_number: String,
    pub unit: String,
    pub title: String,
    pub title_level: String,
    pub specialty: String,
    pub group: Option<String>,
    pub extra: Map<String, Value>,
    pub src: Src,
}

#[derive(Debug, Clone)]
pub struct Committee {
    pub members: Vec<String>,
    pub chair: String,
    pub reporter: String,
    pub src: Src,
}

#[derive(Debug, Clone, Default)]
pub struct Lecture {
    pub order: Option<i64>,
    pub room: String,
    pub topic: String,
    pub chapter: String,
    pub textbook: String,
}

#[derive(Debug, Clone)]
pub struct Applicant {
    pub code: String,
    pub name: String,
    pub unit: String,
    pub series: String,
    pub specialty: String,
    pub title: String,
    pub review_type: String,
    pub group: Option<String>,
    pub lecture: Option<Lecture>,
    pub details: Vec<(String, String)>,
    pub materials: Vec<String>,
    pub extra: Map<String, Value>,
    pub src: Src,
}

#[derive(Debug, Clone)]
pub struct Recusal {
    pub expert: String,
    pub applicant: String,
    pub reason: String,
    pub src: Src,
}

#[derive(Debug, Clone)]
pub struct Package {
    pub session: SessionInfo,
    pub session_src: Src,
    pub groups: Vec<Group>,
    pub experts: Vec<Expert>,
    pub committee: Committee,
    pub applicants: Vec<Applicant>,
    pub recusals: Vec<Recusal>,
    pub extra: Map<String, Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratio_boundaries_are_integer_math() {
        let two_thirds = Ratio::parse("2/3").unwrap();
        assert!(two_thirds.reached(17, 25));
        assert!(!two_thirds.reached(16, 25));
        assert!(two_thirds.reached(2, 3));
        assert!(two_thirds.reached(0, 0));
        assert_eq!(Ratio::parse("3/2"), None);
        assert_eq!(Ratio::parse("0/3"), None);
        assert_eq!(Ratio::parse("2/0"), None);
        assert_eq!(Ratio::parse("abc"), None);
        assert_eq!(Ratio::parse(" 1 / 2 "), Some(Ratio { p: 1, q: 2 }));
    }

    #[test]
    fn modes_parse_codes_and_labels() {
        assert_eq!(Mode::parse("专家评审"), Some(Mode::ExpertReview));
        assert_eq!(Mode::parse("专家评审 ＋ 讲课答辩"), Some(Mode::LectureDefense));
        assert_eq!(Mode::parse("interview_defense"), Some(Mode::InterviewDefense));
        assert_eq!(Mode::parse("committee"), None);
    }

    #[test]
    fn column_letters() {
        assert_eq!(col_letter(0), "A");
        assert_eq!(col_letter(2), "C");
        assert_eq!(col_letter(25), "Z");
        assert_eq!(col_letter(26), "AA");
        assert_eq!(col_letter(27), "AB");
    }
}
