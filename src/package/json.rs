//! `package.json`: parsed to a `serde_json::Value` and walked by hand, so every problem carries
//! its JSON path and all of them are reported at once.

use super::model::*;
use crate::rules::{GroupRule, Mode, Ratio, ScoreRule};
use serde_json::{Map, Value};

pub const FORMAT: &str = "pingshen-package/1";

struct Walk {
    problems: Vec<Problem>,
}

impl Walk {
    fn text(&mut self, obj: &Map<String, Value>, path: &str, key: &str, required: bool) -> String {
        let place = format!("{path}.{key}");
        match obj.get(key) {
            None | Some(Value::Null) => {
                if required {
                    self.problems.push(Problem::new(place, "缺少必填项 (required)"));
                }
                String::new()
            }
            Some(Value::String(s)) => {
                let s = s.trim().to_string();
                if required && s.is_empty() {
                    self.problems.push(Problem::new(place, "不能为空 (must not be empty)"));
                }
                s
            }
            Some(Value::Number(n)) => n.to_string(),
            Some(_) => {
                self.problems.push(Problem::new(place, "应为文本 (expected a string)"));
                String::new()
            }
        }
    }

    fn opt_text(&mut self, obj: &Map<String, Value>, path: &str, key: &str) -> Option<String> {
        match obj.get(key) {
            None | Some(Value::Null) => None,
            Some(_) => Some(self.text(obj, path, key, false)).filter(|s| !s.is_empty()),
        }
    }

    fn boolean(&mut self, obj: &Map<String, Value>, path: &str, key: &str) -> bool {
        match obj.get(key) {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                self.problems.push(Problem::new(format!("{path}.{key}"), "应为 true 或 false (expected a boolean)"));
                false
            }
        }
    }

    fn array<'v>(&mut self, obj: &'v Map<String, Value>, path: &str, key: &str, required: bool) -> &'v [Value] {
        match obj.get(key) {
            None | Some(Value::Null) => {
                if required {
                    self.problems.push(Problem::new(format!("{path}{key}"), "缺少必填项 (required)"));
                }
                &[]
            }
            Some(Value::Array(a)) => a,
            Some(_) => {
                self.problems.push(Problem::new(format!("{path}{key}"), "应为数组 (expected an array)"));
                &[]
            }
        }
    }

    fn object<'v>(&mut self, v: &'v Value, place: &str) -> Option<&'v Map<String, Value>> {
        match v {
            Value::Object(m) => Some(m),
            _ => {
                self.problems.push(Problem::new(place, "应为对象 (expected an object)"));
                None
            }
        }
    }
}

fn extra(obj: &Map<String, Value>, known: &[&str]) -> Map<String, Value> {
    obj.iter().filter(|(k, _)| !known.contains(&k.as_str())).map(|(k, v)| (k.clone(), v.clone())).collect()
}

pub fn parse(bytes: &[u8]) -> Result<Package, Vec<Problem>> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        vec![Problem::new(
            "package.json",
            format!("不是 UTF-8 编码的文本，第 {} 字节处出错 (file is not valid UTF-8)", e.valid_up_to()),
        )]
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let root: Value = serde_json::from_str(text).map_err(|e| {
        vec![Problem::new(
            format!("package.json 第 {} 行第 {} 列", e.line(), e.column()),
            format!("JSON 格式错误 ({e})"),
        )]
    })?;
    let mut w = Walk { problems: Vec::new() };
    let Some(root) = w.object(&root, "$") else {
        return Err(w.problems);
    };

    match root.get("format") {
        Some(Value::String(f)) if f == FORMAT => {}
        Some(other) => w.problems.push(Problem::new("format", format!("应为 \"{FORMAT}\"，实为 {other}"))),
        None => w.problems.push(Problem::new("format", format!("缺少必填项，应为 \"{FORMAT}\""))),
    }

    let empty = Map::new();
    let session_obj = match root.get("session") {
        Some(v) => w.object(v, "session").unwrap_or(&empty),
        None => {
            w.problems.push(Problem::new("session", "缺少必填项 (required)"));
            &empty
        }
    };
    let session = parse_session(&mut w, session_obj);

    let mut groups = Vec::new();
    for (i, v) in w.array(root, "", "groups", false).iter().enumerate() {
        let path = format!("groups[{i}]");
        let Some(o) = w.object(v, &path) else {
            continue;
        };
        groups.push(Group {
            code: w.text(o, &path, "code", true),
            name: w.text(o, &path, "name", true),
            leader: w.text(o, &path, "leader", true),
            extra: extra(o, &["code", "name", "leader"]),
            src: Src::Json(path),
        });
    }

    let mut experts = Vec::new();
    for (i, v) in w.array(root, "", "experts", true).iter().enumerate() {
        let path = format!("experts[{i}]");
        let Some(o) = w.object(v, &path) else {
            continue;
        };
        experts.push(Expert {
            code: w.text(o, &path, "code", true),
            name: w.text(o, &path, "name", true),
            gender: w.text(o, &path, "gender", false),
            phone: w.text(o, &path, "phone", false),
            id_number: w.text(o, &path, "id_number", false),
            unit: w.text(o, &path, "unit", false),
            title: w.text(o, &path, "title", false),
            title_level: w.text(o, &path, "title_level", false),
            specialty: w.text(o, &path, "specialty", false),
            group: w.opt_text(o, &path, "group"),
            extra: extra(
                o,
                &["code", "name", "gender", "phone", "id_number", "unit", "title", "title_level", "specialty", "group"],
            ),
            src: Src::Json(path),
        });
    }

    let committee = match root.get("committee") {
        None | Some(Value::Null) => {
            w.problems.push(Problem::new("committee", "缺少必填项 (required)"));
            Committee {
                members: vec![],
                chair: String::new(),
                reporter: String::new(),
                src: Src::Json("committee".into()),
            }
        }
        Some(v) => {
            let o = w.object(v, "committee").unwrap_or(&empty);
            let mut members = Vec::new();
            for (i, m) in w.array(o, "committee.", "members", true).iter().enumerate() {
                match m {
                    Value::String(s) => members.push(s.trim().to_string()),
                    _ => w
                        .problems
                        .push(Problem::new(format!("committee.members[{i}]"), "应为专家编号 (expected a string)")),
                }
            }
            Committee {
                members,
                chair: w.text(o, "committee", "chair", true),
                reporter: w.text(o, "committee", "reporter", true),
                src: Src::Json("committee".into()),
            }
        }
    };

    let mut applicants = Vec::new();
    for (i, v) in w.array(root, "", "applicants", true).iter().enumerate() {
        let path = format!("applicants[{i}]");
        let Some(o) = w.object(v, &path) else {
            continue;
        };
        let lecture = match o.get("lecture") {
            None | Some(Value::Null) => None,
            Some(l) => {
                let lp = format!("{path}.lecture");
                w.object(l, &lp).map(|lo| {
                    let order = match lo.get("order") {
                        None | Some(Value::Null) => None,
                        Some(Value::Number(n)) if n.as_i64().is_some() => n.as_i64(),
                        Some(Value::String(s)) if s.trim().parse::<i64>().is_ok() => s.trim().parse().ok(),
                        Some(_) => {
                            w.problems
                                .push(Problem::new(format!("{lp}.order"), "面试顺序应为整数 (expected an integer)"));
                            None
                        }
                    };
                    Lecture {
                        order,
                        room: w.text(lo, &lp, "room", false),
                        topic: w.text(lo, &lp, "topic", false),
                        chapter: w.text(lo, &lp, "chapter", false),
                        textbook: w.text(lo, &lp, "textbook", false),
                    }
                })
            }
        };
        let mut details = Vec::new();
        match o.get("details") {
            None | Some(Value::Null) => {}
            Some(Value::Object(d)) => {
                for (k, v) in d {
                    let val = match v {
                        Value::String(s) => s.clone(),
                        Value::Null => String::new(),
                        other => other.to_string(),
                    };
                    details.push((k.clone(), val));
                }
            }
            Some(_) => w.problems.push(Problem::new(format!("{path}.details"), "应为对象 (expected an object)")),
        }
        let mut materials = Vec::new();
        for (j, m) in w.array(o, &format!("{path}."), "materials", false).iter().enumerate() {
            match m {
                Value::String(s) => materials.push(s.trim().to_string()),
                _ => {
                    w.problems.push(Problem::new(format!("{path}.materials[{j}]"), "应为文件路径 (expected a string)"))
                }
            }
        }
        applicants.push(Applicant {
            code: w.text(o, &path, "code", true),
            name: w.text(o, &path, "name", true),
            unit: w.text(o, &path, "unit", false),
            series: w.text(o, &path, "series", false),
            specialty: w.text(o, &path, "specialty", false),
            title: w.text(o, &path, "title", false),
            review_type: w.text(o, &path, "review_type", false),
            group: w.opt_text(o, &path, "group"),
            lecture,
            details,
            materials,
            extra: extra(
                o,
                &[
                    "code",
                    "name",
                    "unit",
                    "series",
                    "specialty",
                    "title",
                    "review_type",
                    "group",
                    "lecture",
                    "details",
                    "materials",
                ],
            ),
            src: Src::Json(path),
        });
    }

    let mut recusals = Vec::new();
    for (i, v) in w.array(root, "", "recusals", false).iter().enumerate() {
        let path = format!("recusals[{i}]");
        let Some(o) = w.object(v, &path) else {
            continue;
        };
        recusals.push(Recusal {
            expert: w.text(o, &path, "expert", true),
            applicant: w.text(o, &path, "applicant", true),
            reason: w.text(o, &path, "reason", false),
            src: Src::Json(path),
        });
    }

    if !w.problems.is_empty() {
        return Err(w.problems);
    }
    Ok(Package {
        session,
        session_src: Src::Json("session".into()),
        groups,
        experts,
        committee,
        applicants,
        recusals,
        extra: extra(root, &["format", "session", "groups", "experts", "committee", "applicants", "recusals"]),
    })
}

fn parse_session(w: &mut Walk, o: &Map<String, Value>) -> SessionInfo {
    let p = "session";
    let id = w.text(o, p, "id", true);
    let name = w.text(o, p, "name", true);
    let committee = w.text(o, p, "committee", true);
    let mode_s = w.text(o, p, "mode", true);
    let mode = Mode::parse(&mode_s).unwrap_or_else(|| {
        if !mode_s.is_empty() {
            w.problems.push(Problem::new(
                "session.mode",
                format!("评审模式 \"{mode_s}\" 无效，应为 expert_review、lecture_defense 或 interview_defense"),
            ));
        }
        Mode::ExpertReview
    });
    let mut ratio = |key: &str| {
        let s = w.text(o, p, key, false);
        if s.is_empty() {
            return Ratio { p: 2, q: 3 };
        }
        Ratio::parse(&s).unwrap_or_else(|| {
            w.problems.push(Problem::new(
                format!("session.{key}"),
                format!("比例 \"{s}\" 无效，应为 p/q 形式且 0 < p ≤ q (e.g. \"2/3\")"),
            ));
            Ratio { p: 2, q: 3 }
        })
    };
    let committee_pass_ratio = ratio("committee_pass_ratio");
    let quorum_ratio = ratio("quorum_ratio");
    let gr = w.text(o, p, "group_pass_rule", false);
    let group_pass_rule = if gr.is_empty() {
        GroupRule::MoreThanHalf
    } else {
        GroupRule::parse(&gr).unwrap_or_else(|| {
            w.problems.push(Problem::new(
                "session.group_pass_rule",
                format!("专业组通过规则 \"{gr}\" 无效，应为 more_than_half 或 p/q"),
            ));
            GroupRule::MoreThanHalf
        })
    };
    let sr = w.text(o, p, "score_rule", false);
    let score_rule = if sr.is_empty() {
        ScoreRule::Mean
    } else {
        ScoreRule::parse(&sr).unwrap_or_else(|| {
            w.problems
                .push(Problem::new("session.score_rule", format!("计分规则 \"{sr}\" 无效，应为 mean 或 trimmed_mean")));
            ScoreRule::Mean
        })
    };
    SessionInfo {
        id,
        name,
        committee,
        mode,
        committee_pass_ratio,
        quorum_ratio,
        group_pass_rule,
        score_rule,
        recused_count_as_present: w.boolean(o, p, "recused_count_as_present"),
        blind: w.boolean(o, p, "blind"),
        extra: extra(
            o,
            &[
                "id",
                "name",
                "committee",
                "mode",
                "committee_pass_ratio",
                "quorum_ratio",
                "group_pass_rule",
                "score_rule",
                "recused_count_as_present",
                "blind",
            ],
        ),
    }
}
