//! The package workbook's sheets, columns and allowed values, written once: the importer
//! (`xlsx`) reads by these headers and accepts these values; the office's blank workbook
//! (`template`) writes the same headers, explains each column on its 说明 sheet and puts these
//! very lists in Excel's data validation. A header or a choice changed here changes both.

use crate::rules::{GroupRule, Mode, Ratio, ScoreRule};

/// What a column holds: decides its cell format, its validation and its line on 说明.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A code (PACKAGE.md): 1–32 letters, digits, `-`, `_`, `.`; stored as text.
    Code,
    /// Free text.
    Text,
    /// Digits that must stay text (leading zeros, 18-digit ID numbers).
    Digits,
    /// A whole number (面试顺序).
    Integer,
    /// 是 / 否.
    YesNo,
    /// 男 / 女 (or blank).
    Gender,
    /// 评审模式.
    Mode,
    /// 专业组通过规则: 过半数 or a fraction.
    GroupRule,
    /// 计分规则.
    ScoreRule,
    /// A fraction p/q.
    Ratio,
    /// Paths inside the package, separated by `;`.
    Paths,
}

/// The values of a 是/否 column as the template offers them (the importer also takes Y/N,
/// 1/0, TRUE/FALSE and √, which older office sheets use).
pub const YES_NO: [&str; 2] = ["是", "否"];
pub const GENDERS: [&str; 2] = ["男", "女"];
/// The fractions the template offers for ratios; the importer takes any p/q (0 < p ≤ q ≤ 1000),
/// so these lists warn rather than stop in Excel.
pub const RATIOS: [&str; 4] = ["2/3", "1/2", "3/5", "3/4"];

impl Kind {
    /// The values offered in the cell's drop-down, each one the importer accepts.
    pub fn choices(self) -> Vec<String> {
        match self {
            Kind::YesNo => YES_NO.iter().map(|s| s.to_string()).collect(),
            Kind::Gender => GENDERS.iter().map(|s| s.to_string()).collect(),
            Kind::Mode => Mode::ALL.iter().map(|m| m.label().to_string()).collect(),
            Kind::ScoreRule => ScoreRule::ALL.iter().map(|r| r.short_label().to_string()).collect(),
            Kind::GroupRule => std::iter::once(GroupRule::MoreThanHalf.short_label())
                .chain(RATIOS.iter().filter_map(|r| Ratio::parse(r)).map(|r| GroupRule::AtLeast(r).short_label()))
                .collect(),
            Kind::Ratio => RATIOS.iter().map(|s| s.to_string()).collect(),
            _ => Vec::new(),
        }
    }
    /// Whether a value outside `choices` is refused by the importer (so Excel stops it too);
    /// otherwise Excel only warns (a ratio may be any p/q).
    pub fn closed(self) -> bool {
        matches!(self, Kind::YesNo | Kind::Gender | Kind::Mode | Kind::ScoreRule)
    }
    /// Whether the cells are formatted as text (`@`), so Excel and WPS keep leading zeros,
    /// long digit runs and values such as `2/3` or `1986-05` as typed instead of turning them
    /// into numbers or dates.
    pub fn as_text(self) -> bool {
        self != Kind::Integer
    }
    /// The format line on 说明.
    pub fn format(self) -> String {
        match self {
            Kind::Code => "编码：1–32 个字母、数字或 - _ .（文本格式）".into(),
            Kind::Text => "文字".into(),
            Kind::Digits => "数字串，按文本保存（保留开头的 0 和全部位数）".into(),
            Kind::Integer => "整数".into(),
            Kind::Paths => "文件路径，多个用 ; 分隔（zip 包 materials/ 文件夹内）".into(),
            Kind::Ratio => "分数 p/q，如 2/3（文本格式，不会变成日期）".into(),
            Kind::GroupRule => "过半数，或分数 p/q（至少达到该比例）".into(),
            _ => "从下拉列表中选择".into(),
        }
    }
}

/// One column of a sheet (or one row of the key/value sheet 评审会).
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// The JSON field the column fills (problems name it, e.g. `lecture.order`).
    pub field: &'static str,
    /// The header exactly as PACKAGE.md gives it.
    pub header: &'static str,
    /// A value must be given in every row.
    pub required: bool,
    pub kind: Kind,
    /// What the column means, for 说明 and the header's note.
    pub what: &'static str,
    pub example: &'static str,
}

const fn col(
    field: &'static str,
    header: &'static str,
    required: bool,
    kind: Kind,
    what: &'static str,
    example: &'static str,
) -> Column {
    Column { field, header, required, kind, what, example }
}

/// 评审会: one row per setting (项目, 值).
pub const SESSION: &[Column] = &[
    col("id", "编号", true, Kind::Code, "本次评审会的编号，职改办签发时使用", "2026-HN-ZXXJS-01"),
    col("name", "名称", true, Kind::Text, "评审会名称，印在会议记录和结果上", "2026年度河南省中小学教师职称评审会"),
    col("committee", "评委会", true, Kind::Text, "评审委员会的全称", "河南省中小学教师中级职务评审委员会"),
    col(
        "mode",
        "评审模式",
        true,
        Kind::Mode,
        "专家评审；专家评审+讲课答辩；专家答辩+面试答辩（后两种要打分）",
        "专家评审",
    ),
    col(
        "committee_pass_ratio",
        "通过比例",
        false,
        Kind::Ratio,
        "评委会表决：同意票至少占出席人数的比例（向上取整）；空白为 2/3",
        "2/3",
    ),
    col(
        "quorum_ratio",
        "出席比例",
        false,
        Kind::Ratio,
        "评委会出席人数至少占委员总数的比例才能表决；空白为 2/3",
        "2/3",
    ),
    col(
        "group_pass_rule",
        "专业组通过规则",
        false,
        Kind::GroupRule,
        "专业组表决：过半数，或同意票至少达到的比例；空白为过半数",
        "过半数",
    ),
    col(
        "score_rule",
        "计分规则",
        false,
        Kind::ScoreRule,
        "答辩得分：平均分，或五人及以上打分时去掉一个最高分和一个最低分；空白为平均分",
        "平均分",
    ),
    col(
        "recused_count_as_present",
        "回避者计入出席",
        false,
        Kind::YesNo,
        "回避的委员是否仍计入该申报人的出席人数；空白为 否",
        "否",
    ),
    col("blind", "盲评", false, Kind::YesNo, "盲评时专家只看到申报人编号，看不到姓名和单位；空白为 否", "否"),
];

pub const GROUPS: &[Column] = &[
    col("code", "组编号", true, Kind::Code, "专业组编号，专家和申报人用它指明所在组", "G01"),
    col("name", "组名", true, Kind::Text, "专业组名称", "小学语文组"),
    col("leader", "组长编号", true, Kind::Code, "组长的专家编号（必须是本组专家）", "E001"),
];

pub const EXPERTS: &[Column] = &[
    col("code", "编号", true, Kind::Code, "专家编号，也是登录账号的依据", "E001"),
    col("name", "姓名", true, Kind::Text, "专家姓名", "孙怡"),
    col("gender", "性别", false, Kind::Gender, "男 或 女", "女"),
    col("phone", "手机号码", false, Kind::Digits, "手机号码", "18236545696"),
    col("id_number", "证件号", false, Kind::Digits, "身份证号等证件号码（18 位也完整保留）", "410108199003077"),
    col("unit", "工作单位", false, Kind::Text, "工作单位；与申报人的推荐单位相同时自动回避", "郑州市金水区教育局"),
    col("title", "专业技术职务", false, Kind::Text, "专业技术职务", "中小学正高"),
    col("title_level", "专业技术职务等级", false, Kind::Text, "如 正高级、副高级", "正高级"),
    col("specialty", "推荐专业", false, Kind::Text, "推荐专业", "英语"),
    col("group", "专业组编号", false, Kind::Code, "所在专业组的组编号；只参加评委会的委员留空", "G01"),
    col("member", "评委", false, Kind::YesNo, "是否为评委会委员", "是"),
    col("chair", "主任", false, Kind::YesNo, "评委会主任（只能一人为 是，须是委员）", "否"),
    col("reporter", "上报人", false, Kind::YesNo, "上报评审结果的人（只能一人为 是，须是委员）", "否"),
];

pub const APPLICANTS: &[Column] = &[
    col("code", "编号", true, Kind::Code, "申报人编号（盲评时专家只看到它）", "A0001"),
    col("name", "姓名", true, Kind::Text, "申报人姓名", "李娜"),
    col("unit", "推荐单位", false, Kind::Text, "推荐单位；与专家的工作单位相同时该专家自动回避", "逸夫小学"),
    col("series", "申报系列", false, Kind::Text, "申报系列", "中小学教师"),
    col("specialty", "申报专业", false, Kind::Text, "申报专业", "小学语文"),
    col("title", "申报职称", false, Kind::Text, "申报职称", "中小学一级教师"),
    col("review_type", "评审类型", false, Kind::Text, "如 评审(正常)、破格", "评审(正常)"),
    col("group", "专业组编号", false, Kind::Code, "评审该申报人的专业组；留空则不经专业组，直接由评委会评审", "G01"),
];

/// The defense columns of 申报人 (used in the two defense modes) and its materials.
pub const LECTURE: &[Column] = &[
    col("lecture.order", "面试顺序", false, Kind::Integer, "答辩模式：出场顺序（整数）", "1"),
    col("lecture.room", "考场号", false, Kind::Text, "答辩模式：考场", "小学语文"),
    col("lecture.topic", "讲课题目", false, Kind::Text, "答辩模式：讲课题目", "赵州桥"),
    col("lecture.chapter", "章节", false, Kind::Text, "答辩模式：章节", "11"),
    col("lecture.textbook", "教材版本", false, Kind::Text, "答辩模式：教材版本", "部编版"),
    col(
        "materials",
        "材料",
        false,
        Kind::Paths,
        "申报材料在 zip 包中的路径，多个用 ; 分隔",
        "materials/A0001/申报表.pdf",
    ),
];

pub const RECUSALS: &[Column] = &[
    col("expert", "专家编号", true, Kind::Code, "回避的专家", "E005"),
    col("applicant", "申报人编号", true, Kind::Code, "该专家回避的申报人", "A0003"),
    col("reason", "原因", false, Kind::Text, "回避原因（同单位的回避会自动加上，不必列出）", "师生关系"),
];

/// The sheets in the order the template writes them; `optional` sheets may be left out.
pub struct SheetSpec {
    pub name: &'static str,
    pub columns: &'static [&'static [Column]],
    pub optional: bool,
    pub what: &'static str,
}

pub const SHEETS: &[SheetSpec] = &[
    SheetSpec {
        name: "评审会",
        columns: &[SESSION],
        optional: false,
        what: "评审会的设置：每行一项（项目, 值），只填「值」列",
    },
    SheetSpec {
        name: "专业组", columns: &[GROUPS], optional: false, what: "每个专业组一行；没有专业组时只保留表头"
    },
    SheetSpec {
        name: "专家", columns: &[EXPERTS], optional: false, what: "每位专家一行，包括只参加评委会的委员"
    },
    SheetSpec {
        name: "申报人",
        columns: &[APPLICANTS, LECTURE],
        optional: false,
        what: "每位申报人一行；「材料」之后可以加任意列（如 性别、出生年月、学历），原样显示在申报人详情页",
    },
    SheetSpec {
        name: "回避", columns: &[RECUSALS], optional: true, what: "同单位之外的回避，每对一行；没有可留空"
    },
];

/// The `(field, header)` pairs of a column list, for problem places.
pub fn pairs(cols: &[Column]) -> Vec<(&'static str, &'static str)> {
    cols.iter().map(|c| (c.field, c.header)).collect()
}

/// The headers of a column list.
pub fn headers(cols: &[Column]) -> Vec<&'static str> {
    cols.iter().map(|c| c.header).collect()
}

/// Whether `text` is a 是/否 answer, and which (blank is 否). The template offers `YES_NO`; the
/// other spellings are what hand-made office sheets already use.
pub fn yes_no(text: &str) -> Option<bool> {
    match text.trim() {
        "是" | "Y" | "y" | "YES" | "yes" | "TRUE" | "true" | "1" | "√" => Some(true),
        "否" | "N" | "n" | "NO" | "no" | "FALSE" | "false" | "0" | "" => Some(false),
        _ => None,
    }
}

/// A gender is one of `GENDERS` or blank.
pub fn gender_ok(text: &str) -> bool {
    text.is_empty() || GENDERS.contains(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every value a drop-down offers is one the importer's parser takes, and the closed lists
    /// offer every value of their kind.
    #[test]
    fn every_choice_is_accepted_and_closed_lists_are_complete() {
        for c in Kind::Mode.choices() {
            assert!(Mode::parse(&c).is_some(), "{c}");
        }
        assert_eq!(Kind::Mode.choices().len(), Mode::ALL.len());
        for c in Kind::ScoreRule.choices() {
            assert!(ScoreRule::parse(&c).is_some(), "{c}");
        }
        assert_eq!(Kind::ScoreRule.choices().len(), ScoreRule::ALL.len());
        for c in Kind::GroupRule.choices() {
            assert!(GroupRule::parse(&c).is_some(), "{c}");
        }
        assert_eq!(GroupRule::parse(&Kind::GroupRule.choices()[0]), Some(GroupRule::MoreThanHalf));
        for c in Kind::Ratio.choices() {
            assert!(Ratio::parse(&c).is_some(), "{c}");
        }
        assert_eq!(Kind::YesNo.choices().iter().map(|c| yes_no(c)).collect::<Vec<_>>(), [Some(true), Some(false)]);
        for c in Kind::Gender.choices() {
            assert!(gender_ok(&c));
        }
        assert!(!gender_ok("M"));
    }

    #[test]
    fn headers_are_unique_within_a_sheet() {
        for s in SHEETS {
            let all: Vec<&str> = s.columns.iter().flat_map(|c| headers(c)).collect();
            let set: std::collections::HashSet<&&str> = all.iter().collect();
            assert_eq!(set.len(), all.len(), "{}", s.name);
        }
    }
}
