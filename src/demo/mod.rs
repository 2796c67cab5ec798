//! The built-in demo session: the manual's own example (小学语文组, 李娜 of 逸夫小学, 孙怡 as
//! leader, 王健华, committee member 王东 …) enlarged to a believable day. It goes through the
//! same loader and checks as a real package; only its fixed demo passwords are special.

pub mod synthetic;

use crate::accounts;
use crate::error::{Error, Result};
use crate::package;
use crate::rules::Mode;
use crate::store::Db;
use serde_json::{json, Value};
use std::path::Path;

pub const DEMO_SESSION_ID: &str = "DEMO-2026-HN-ZXXJS";
pub const DEMO_PASSWORD: &str = "pingshen";
pub const DEMO_ADMIN: (&str, &str) = ("admin", "admin-demo");

/// (code, name, gender, unit, title, level, specialty, group, demo username)
type ExpertRow = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
    &'static str,
);

#[rustfmt::skip]
const EXPERTS: &[ExpertRow] = &[
    ("E001", "孙怡", "女", "郑州市金水区教育局", "中小学正高", "正高级", "英语", Some("G01"), "sunyi"),
    ("E002", "王健华", "男", "河南农业大学", "高级兽医师", "副高级", "兽医", Some("G01"), "wangjianhua"),
    ("E003", "李红梅", "女", "逸夫小学", "中小学高级教师", "副高级", "小学语文", Some("G01"), "lihongmei"),
    ("E004", "周敏", "女", "郑州市教育科学研究院", "中小学高级教师", "副高级", "小学语文", Some("G01"), "zhoumin"),
    ("E005", "许贵舫", "女", "河南省地质研究院", "正高级工程师", "正高级", "矿山地质勘探", Some("G02"), "xuguifang"),
    ("E006", "王公博", "男", "郑州外国语学校", "中小学正高", "正高级", "英语", Some("G02"), "wanggongbo"),
    ("E007", "赵建国", "男", "洛阳市实验小学", "中小学高级教师", "副高级", "小学数学", Some("G02"), "zhaojianguo"),
    ("E008", "刘洋", "男", "新乡市教育局", "中小学高级教师", "副高级", "小学数学", Some("G02"), "liuyang"),
    ("E009", "陈静", "女", "河南师范大学附属小学", "中小学正高", "正高级", "小学英语", Some("G03"), "chenjing"),
    ("E010", "杨光", "男", "开封市教育局", "中小学高级教师", "副高级", "小学英语", Some("G03"), "yangguang"),
    ("E011", "黄丽", "女", "许昌市实验小学", "中小学高级教师", "副高级", "小学英语", Some("G03"), "huangli"),
    ("E012", "吴刚", "男", "南阳市第十五小学", "中小学高级教师", "副高级", "小学英语", Some("G03"), "wugang"),
    ("E101", "王东", "男", "河南省教育厅", "中小学正高", "正高级", "语文", None, "wangdong"),
    ("E102", "孙莉", "女", "河南大学", "教授", "正高级", "教育学", None, "sunli"),
    ("E103", "陈志强", "男", "河南师范大学", "教授", "正高级", "数学", None, "chenzhiqiang"),
    ("E104", "郑晓燕", "女", "郑州师范学院", "教授", "正高级", "英语教育", None, "zhengxiaoyan"),
    ("E105", "马俊", "男", "河南省基础教育教学研究室", "中小学正高", "正高级", "课程与教学论", None, "majun"),
];

/// (code, name, gender, unit, specialty, review type, group, topic, chapter, textbook)
type ApplicantRow = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
    &'static str,
    &'static str,
    &'static str,
);

#[rustfmt::skip]
const APPLICANTS: &[ApplicantRow] = &[
    ("A0001", "李娜", "女", "逸夫小学", "小学语文", "评审(正常)", Some("G01"), "赵州桥", "11", "部编版"),
    ("A0002", "张伟", "男", "郑州市管城区第一小学", "小学语文", "评审(正常)", Some("G01"), "观潮", "1", "部编版"),
    ("A0003", "王芳", "女", "郑州市中原区伏牛路小学", "小学语文", "评审(正常)", Some("G01"), "草船借箭", "5", "部编版"),
    ("A0004", "刘静", "女", "开封市第二实验小学", "小学语文", "评审(正常)", Some("G01"), "少年闰土", "8", "部编版"),
    ("A0005", "陈磊", "男", "洛阳市西工区实验小学", "小学语文", "破格", Some("G01"), "落花生", "2", "部编版"),
    ("A0006", "杨丽", "女", "安阳市人民大道小学", "小学语文", "评审(正常)", Some("G01"), "慈母情深", "6", "部编版"),
    ("A0007", "赵敏", "女", "新乡市育才小学", "小学语文", "评审(正常)", Some("G01"), "桂花雨", "3", "部编版"),
    ("A0008", "刘芳", "女", "开封市第二实验小学", "小学数学", "评审(正常)", Some("G02"), "圆的面积", "5", "人教版"),
    ("A0009", "杨帆", "男", "洛阳市实验小学", "小学数学", "破格", Some("G02"), "鸡兔同笼", "9", "人教版"),
    ("A0010", "孙强", "男", "郑州市金水区文化路第一小学", "小学数学", "评审(正常)", Some("G02"), "分数的意义", "4", "人教版"),
    ("A0011", "周洁", "女", "平顶山市新华区实验小学", "小学数学", "评审(正常)", Some("G02"), "平行四边形的面积", "6", "人教版"),
    ("A0012", "吴昊", "男", "焦作市解放区实验小学", "小学数学", "评审(正常)", Some("G02"), "百分数的应用", "7", "北师大版"),
    ("A0013", "郑雪", "女", "濮阳市第一实验小学", "小学数学", "评审(正常)", Some("G02"), "长方体的体积", "3", "人教版"),
    ("A0014", "王鹏", "男", "许昌市建设路小学", "小学数学", "评审(正常)", Some("G02"), "认识比", "4", "北师大版"),
    ("A0015", "冯婷", "女", "郑州市二七区长江东路小学", "小学英语", "评审(正常)", Some("G03"), "My school", "1", "人教PEP版"),
    ("A0016", "高杰", "男", "开封市第一师范附属小学", "小学英语", "评审(正常)", Some("G03"), "At the farm", "4", "人教PEP版"),
    ("A0017", "林晓", "女", "漯河市实验小学", "小学英语", "评审(正常)", Some("G03"), "Seasons", "2", "译林版"),
    ("A0018", "何静", "女", "许昌市实验小学", "小学英语", "评审(正常)", Some("G03"), "My family", "6", "人教PEP版"),
    ("A0019", "罗兰", "女", "信阳市第九小学", "小学英语", "评审(正常)", Some("G03"), "Weather", "3", "人教PEP版"),
    ("A0020", "高丽", "女", "河南省实验小学", "小学科学", "评审(直接评委会)", None, "", "", ""),
];

pub fn package_json(mode: Mode) -> Value {
    let experts: Vec<Value> = EXPERTS
        .iter()
        .enumerate()
        .map(|(i, (code, name, gender, unit, title, level, spec, group, _))| {
            json!({
                "code": code, "name": name, "gender": gender,
                "phone": format!("1380371{:04}", 1001 + i),
                "id_number": format!("4101{:02}19{:02}0{}0{}1{:03}", 1 + i % 9, 60 + i, 1 + i % 9, 1 + i % 8, 10 + i),
                "unit": unit, "title": title, "title_level": level, "specialty": spec, "group": group,
            })
        })
        .collect();
    let mut orders = std::collections::HashMap::new();
    let applicants: Vec<Value> = APPLICANTS
        .iter()
        .enumerate()
        .map(|(i, (code, name, gender, unit, spec, rtype, group, topic, chapter, textbook))| {
            let order = orders.entry(group.unwrap_or("")).or_insert(0);
            *order += 1;
            let lecture = group.map(
                |_| json!({ "order": *order, "room": spec, "topic": topic, "chapter": chapter, "textbook": textbook }),
            );
            json!({
                "code": code, "name": name, "unit": unit, "series": "中小学教师", "specialty": spec,
                "title": "中小学一级教师", "review_type": rtype, "group": group, "lecture": lecture,
                "details": {
                    "性别": gender,
                    "出生年月": format!("19{}-{:02}", 84 + i % 10, 1 + i % 12),
                    "现职称": "中小学二级教师",
                    "任现职时间": format!("20{:02}-09", 14 + i % 8),
                    "学历": if i % 3 == 0 { "硕士研究生" } else { "本科" },
                    "教龄": format!("{} 年", 9 + i % 12),
                },
                "materials": [],
            })
        })
        .collect();
    json!({
        "format": package::json::FORMAT,
        "session": {
            "id": DEMO_SESSION_ID,
            "name": "2026年度河南省中小学教师职称评审会（演示）",
            "committee": "河南省中小学教师中级职务评审委员会",
            "mode": mode.code(),
            "committee_pass_ratio": "2/3",
            "quorum_ratio": "2/3",
            "group_pass_rule": "more_than_half",
            "score_rule": "trimmed_mean",
            "recused_count_as_present": false,
            "blind": false,
        },
        "groups": [
            { "code": "G01", "name": "小学语文组", "leader": "E001" },
            { "code": "G02", "name": "小学数学组", "leader": "E005" },
            { "code": "G03", "name": "小学英语组", "leader": "E009" },
        ],
        "experts": experts,
        "committee": {
            "members": ["E101", "E102", "E103", "E104", "E105", "E001", "E005", "E009", "E006"],
            "chair": "E101",
            "reporter": "E102",
        },
        "applicants": applicants,
        "recusals": [ { "expert": "E010", "applicant": "A0016", "reason": "师生关系" } ],
    })
}

pub struct DemoAccount {
    pub username: String,
    pub password: String,
    pub name: String,
    pub roles: String,
}

/// Every demo account, for the banner and the README.
pub fn accounts_table(db: &Db) -> Result<Vec<DemoAccount>> {
    let people = db.read(accounts::load_people)?;
    let mut out = vec![DemoAccount {
        username: DEMO_ADMIN.0.into(),
        password: DEMO_ADMIN.1.into(),
        name: "会务管理员".into(),
        roles: "会务管理".into(),
    }];
    for (code, _, _, _, _, _, _, _, user) in EXPERTS {
        if let Some(p) = people.iter().find(|p| p.code == *code) {
            let mut roles = p.role_labels().join("、");
            if let Some(g) = &p.group_name {
                roles = format!("{roles}（{g}）");
            }
            out.push(DemoAccount {
                username: user.to_string(),
                password: DEMO_PASSWORD.into(),
                name: p.name.clone(),
                roles,
            });
        }
    }
    Ok(out)
}

/// Loads the demo into `db` unless it is already there in the same mode. Refuses to touch a
/// real session.
pub fn install(db: &Db, data_dir: &Path, mode: Mode, cost: u32) -> Result<bool> {
    if let Some(s) = db.read(crate::venue::session)? {
        if !s.is_demo {
            return Err(Error::conflict(format!(
                "数据目录 {} 中已有正式会务「{}」，不能加载演示数据；请用 --data 指定另一个目录。",
                data_dir.display(),
                s.name
            )));
        }
        if s.mode() == mode {
            return Ok(false);
        }
    }
    let bytes = serde_json::to_vec(&package_json(mode)).map_err(Error::internal)?;
    let mut loaded = package::load_bytes("demo.json", bytes, u64::MAX).map_err(|p| {
        Error::internal(format!(
            "demo package invalid: {}",
            p.iter().map(|x| x.to_string()).collect::<Vec<_>>().join("; ")
        ))
    })?;
    package::import(db, data_dir, &mut loaded, "system", true)?;
    accounts::ensure_admin(db, cost)?;
    let mut creds: Vec<(String, String, String)> =
        EXPERTS.iter().map(|e| (e.0.to_string(), e.8.to_string(), DEMO_PASSWORD.to_string())).collect();
    creds.push(("admin".into(), DEMO_ADMIN.0.into(), DEMO_ADMIN.1.into()));
    accounts::set_fixed_credentials(db, &creds, cost)?;
    Ok(true)
}
