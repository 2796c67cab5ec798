//! The session package as the rest of pingshen sees it, whichever shape it came in.
//! Every entity remembers where it came from (`Src`), so a problem names its exact place.

use serde_json::{Map, Value};
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use crate::rules::{GroupRule, Mode, Ratio, ScoreRule};

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
    fn column_letters() {
        assert_eq!(col_letter(0), "A");
        assert_eq!(col_letter(2), "C");
        assert_eq!(col_letter(25), "Z");
        assert_eq!(col_letter(26), "AA");
        assert_eq!(col_letter(27), "AB");
    }
}
