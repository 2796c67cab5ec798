//! The office's signature on a package (PACKAGE.md, "Signed packages"): a detached minisign
//! signature of the package file exactly as it travels, its trusted comment naming the session
//! id and the file's SHA-256. The appliance checks it before importing anything when an office
//! key is set; the office makes it with `pingshen office issue`.

use minisign::PublicKey;

/// The trusted comment of a package signature: what the office vouches for, and what the
/// appliance compares with the package it is about to import.
pub fn trusted_comment(session_id: &str, sha256: &str) -> String {
    format!("pingshen-package session:{session_id} sha256:{sha256}")
}

/// (session id, SHA-256) from a package signature's trusted comment.
fn parse_comment(c: &str) -> Option<(&str, &str)> {
    let rest = c.strip_prefix("pingshen-package session:")?;
    rest.split_once(" sha256:")
}

/// Checks the office's signature of a package file (`data`: the file as it travelled, whose
/// SHA-256 and session id the loaded package has). `Ok`: the office key's id. `Err`: the reason,
/// in words an organiser can act on.
pub fn check(
    office: &PublicKey,
    sig_text: Option<&str>,
    data: impl std::io::Read + std::io::Seek,
    session_id: &str,
    sha256: &str,
) -> Result<String, String> {
    use crate::sign::{key_id, verify_detached, Refused};
    let Some(sig_text) = sig_text else {
        return Err("会务包没有职改办签名（缺少 .minisig 文件）：请使用职改办签发的会务包及其签名文件。".into());
    };
    let comment = verify_detached(office, sig_text, data).map_err(|r| match r {
        Refused::Unreadable(e) => format!("签名文件无法读取（{e}）：请使用职改办签发的 .minisig 文件。"),
        Refused::OtherKey(id) => format!(
            "签名不是本机登记的职改办密钥所签（签名密钥 {id}，登记的是 {}）：会务包来源不明，不能导入。",
            key_id(office)
        ),
        Refused::Altered => "会务包在签名之后被改动过（内容与职改办签名不符）：不能导入，请向职改办重新索取。".into(),
    })?;
    let Some((signed_session, signed_sha)) = parse_comment(&comment) else {
        return Err(format!("签名的说明不是会务包签名（{comment}）：不能导入。"));
    };
    if signed_session != session_id {
        return Err(format!("签名属于另一个会务（{signed_session}），而会务包是 {session_id}：不能导入。"));
    }
    if signed_sha != sha256 {
        return Err("签名所记的文件哈希与会务包不符：不能导入，请向职改办重新索取。".into());
    }
    Ok(key_id(office))
}
