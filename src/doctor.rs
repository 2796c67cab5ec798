//! `pingshen doctor`: the venue checklist. Each check says what it found and, when something is
//! wrong, what to do about it. Nothing is changed except a probe file in the data directory.

use crate::config::Config;
use std::net::{SocketAddr, TcpListener};
use std::path::Path;

#[derive(Debug, PartialEq, Eq)]
pub enum Level {
    Ok,
    Warn,
    Fail,
}

pub struct Finding {
    pub level: Level,
    pub what: String,
    pub fix: Option<String>,
}

fn ok(what: String) -> Finding {
    Finding { level: Level::Ok, what, fix: None }
}
fn warn(what: String, fix: &str) -> Finding {
    Finding { level: Level::Warn, what, fix: Some(fix.into()) }
}
fn fail(what: String, fix: &str) -> Finding {
    Finding { level: Level::Fail, what, fix: Some(fix.into()) }
}

/// Free bytes on the file system holding `path`.
#[allow(unsafe_code)]
pub fn free_space(path: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    // SAFETY: statvfs is plain old data; all-zero bytes are a valid value of it.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a valid NUL-terminated path and `st` a properly sized out-parameter.
    let rc = unsafe { libc::statvfs(c.as_ptr(), &mut st) };
    (rc == 0).then(|| st.f_bavail as u64 * st.f_frsize as u64)
}

/// While the appliance serves: do most connections come from one address? Then the venue's
/// Wi-Fi router NATs every tablet behind it, and that address may meet its per-address cap.
fn connections(dir: &Path) -> Option<Finding> {
    let text = std::fs::read_to_string(dir.join(crate::store::STATS_FILE)).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).ok()?.as_secs();
    if now.saturating_sub(v["at"].as_u64()?) > 60 {
        return None; // not serving now: nothing live to judge
    }
    let s = &v["snapshot"];
    let (open, addresses, cap) = (s["open"].as_u64()?, s["addresses"].as_u64()?, s["per_address_cap"].as_u64()?);
    if s["mostly_one_address"].as_bool() == Some(true) {
        let top = &s["top"];
        return Some(warn(
            format!(
                "most connections ({} of {open}) come from one address, {}: the Wi-Fi router likely puts every device behind one NAT address (cap per address: {cap})",
                top[1].as_u64().unwrap_or(0),
                top[0].as_str().unwrap_or("?").chars().filter(|c| !c.is_control()).collect::<String>(),
            ),
            "set the router to bridge (AP) mode so each tablet keeps its own address, or raise max_connections_per_address",
        ));
    }
    Some(ok(format!("{open} connections from {addresses} address(es) now (cap per address: {cap})")))
}

pub fn run(cfg: &Config) -> Vec<Finding> {
    let mut out = Vec::new();
    let dir = &cfg.data_dir;
    match std::fs::create_dir_all(dir).and_then(|_| {
        let probe = dir.join(".doctor-probe");
        std::fs::write(&probe, b"ok")?;
        std::fs::remove_file(probe)
    }) {
        Ok(()) => out.push(ok(format!("data directory {} is writable", dir.display()))),
        Err(e) => out.push(fail(
            format!("data directory {} is not writable ({e})", dir.display()),
            "choose another --data directory or fix its owner/permissions",
        )),
    }
    match free_space(dir) {
        Some(b) if b >= 2 << 30 => out.push(ok(format!("{:.1} GB free on the data directory's disk", b as f64 / 1e9))),
        Some(b) => out.push(warn(
            format!("only {:.0} MB free on the data directory's disk", b as f64 / 1e6),
            "free space or move the data directory: materials, the database and backups need room",
        )),
        None => out
            .push(warn("could not read the free space of the data directory".into(), "check the disk by hand (df -h)")),
    }
    match cfg.listen.parse::<SocketAddr>() {
        Err(_) => {
            out.push(fail(format!("listen address {:?} is not ADDR:PORT", cfg.listen), "set listen = \"0.0.0.0:8080\""))
        }
        Ok(addr) => match TcpListener::bind(addr) {
            Ok(_) => out.push(ok(format!("port {} is free", addr.port()))),
            Err(e) => out.push(fail(
                format!("cannot listen on {addr} ({e})"),
                "another program (or a running pingshen) uses the port: stop it or choose another --listen",
            )),
        },
    }
    let now = time::OffsetDateTime::now_utc();
    if now.year() < 2025 {
        out.push(fail(
            format!("the clock says {now}: it is not set"),
            "set the date and time (date -s …) before the meeting: every vote and the minutes carry times",
        ));
    } else {
        let last = crate::store::Db::open(dir, cfg.utc_offset_hours).ok().and_then(|db| {
            db.read(|c| {
                Ok(rusqlite::OptionalExtension::optional(c.query_row(
                    "SELECT at FROM audit ORDER BY seq DESC LIMIT 1",
                    [],
                    |r| r.get::<_, String>(0),
                ))?)
            })
            .ok()
            .flatten()
        });
        let now_s = crate::store::now_rfc3339(cfg.utc_offset_hours);
        match last {
            Some(at) if at > now_s => out.push(fail(
                format!("the clock ({now_s}) is behind the last recorded event ({at})"),
                "correct the clock: times in the minutes must not run backwards",
            )),
            _ => out.push(ok(format!("the clock reads {}", crate::store::display_time(&now_s)))),
        }
    }
    let bind: SocketAddr = cfg.listen.parse().unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 8080)));
    let addrs = crate::config::venue_addresses(cfg, bind);
    if addrs.iter().all(|a| a.contains("127.0.0.1")) && cfg.public_url.is_none() {
        out.push(warn(
            "no LAN address found: experts' devices could not reach this machine".into(),
            "connect the venue network (cable or Wi-Fi) or set public_url",
        ));
    } else {
        out.push(ok(format!("slips will print: {}", addrs.join("  "))));
    }
    out.extend(connections(dir));
    if cfg.tls {
        out.push(ok("HTTPS is on".into()));
    } else {
        out.push(warn(
            "HTTPS is off: passwords and ballots cross the LAN in clear".into(),
            "set tls = true in the config file",
        ));
    }
    match crate::bundle::key::load(dir) {
        Ok(Some(k)) => out.push(ok(format!("signing key {} (fingerprint SHA256 {})", k.id(), k.fingerprint()))),
        _ => {
            out.push(warn("no signing key yet".into(), "run pingshen key --init and give the public key to the office"))
        }
    }
    // The office key: without it a package is imported unchecked (来源未验证).
    match cfg.office_pubkey.as_deref().map(crate::sign::parse_public) {
        Some(Ok(pk)) => out.push(ok(format!(
            "office key {} set: only packages the office signed are imported",
            crate::sign::key_id(&pk)
        ))),
        Some(Err(e)) => out.push(fail(
            format!("office_pubkey is not a minisign public key: {e}"),
            "copy the office's office.pub (or its base64 key) into office_pubkey",
        )),
        None => out.push(warn(
            "no office key (office_pubkey): packages are imported unchecked and marked 来源未验证".into(),
            "set office_pubkey to the title office's public key (pingshen office init prints it)",
        )),
    }
    match &cfg.backup_dir {
        None => out.push(warn(
            "no backup directory is configured".into(),
            "set backup_dir (e.g. a USB stick) so a crash of this machine loses nothing",
        )),
        Some(b) => match std::fs::create_dir_all(b).and_then(|_| std::fs::write(b.join(".doctor-probe"), b"ok")) {
            Ok(()) => {
                if let Err(e) = crate::store::remove_if_exists(&b.join(".doctor-probe")) {
                    log::warn!("doctor: {e}");
                }
                out.push(ok(format!(
                    "backups go to {} ({} there now)",
                    b.display(),
                    crate::store::backup::list(b).len()
                )));
            }
            Err(e) => out.push(fail(
                format!("backup directory {} is not writable ({e})", b.display()),
                "plug in / mount the backup stick or fix backup_dir",
            )),
        },
    }
    out
}
