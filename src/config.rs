//! Settings: defaults, then the TOML file, then command-line flags (flags win).
//! Every field is documented in `config.example.toml`; keep the two in step.

use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub listen: String,
    pub data_dir: PathBuf,
    pub public_url: Option<String>,
    pub log_file: Option<PathBuf>,
    pub log_level: String,
    pub threads: usize,
    pub bcrypt_cost: u32,
    pub session_idle_minutes: u64,
    pub session_max_hours: u64,
    pub login_max_failures_per_account: u32,
    pub login_max_failures_per_address: u32,
    pub login_lockout_minutes: u64,
    pub body_limit_kb: u64,
    pub upload_limit_mb: u64,
    pub utc_offset_hours: i8,
    pub tls: bool,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// Accepts the older name `tls_idle_timeout_secs` (it now applies without TLS too).
    #[serde(alias = "tls_idle_timeout_secs")]
    pub idle_timeout_secs: u64,
    pub max_connections: usize,
    pub log_max_mb: u64,
    pub log_keep: usize,
    /// Open connections from one client address; 0: half of `max_connections`.
    pub max_connections_per_address: usize,
    pub request_timeout_secs: u64,
    pub upload_timeout_secs: u64,
    pub tls_handshake_timeout_secs: u64,
    pub write_timeout_secs: u64,
    /// The slowest a client may read an answer's body (bytes a second): an answer's deadline is
    /// `write_timeout_secs` plus its body at this rate.
    pub min_send_bytes_per_sec: u64,
    /// A handler that has not answered after this long is answered 503 (the connection is let go).
    pub handler_timeout_secs: u64,
    pub backup_dir: Option<PathBuf>,
    pub backup_interval_minutes: u64,
    pub backup_keep: usize,
    /// Where 会务管理 → 交接 may copy the bundle: each directory and the ones directly in it
    /// (mounted USB sticks). The unit's ReadWritePaths names the same.
    pub handover_dirs: Vec<PathBuf>,
    /// The title office's public key (a minisign `.pub` file or the base64 key): when set, only
    /// a package the office signed with it is imported (PACKAGE.md, "Signed packages").
    pub office_pubkey: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "0.0.0.0:8080".into(),
            data_dir: PathBuf::from("pingshen-data"),
            public_url: None,
            log_file: None,
            log_level: "info".into(),
            threads: 0,
            bcrypt_cost: 10,
            session_idle_minutes: 240,
            session_max_hours: 16,
            login_max_failures_per_account: 5,
            // A venue's Wi-Fi may put 200 tablets behind one NAT address.
            login_max_failures_per_address: 300,
            login_lockout_minutes: 15,
            body_limit_kb: 256,
            upload_limit_mb: 512,
            utc_offset_hours: 8,
            tls: false,
            tls_cert: None,
            tls_key: None,
            idle_timeout_secs: 30,
            max_connections: 4096,
            log_max_mb: 10,
            log_keep: 5,
            max_connections_per_address: 0,
            request_timeout_secs: 30,
            upload_timeout_secs: 600,
            tls_handshake_timeout_secs: 10,
            write_timeout_secs: 30,
            min_send_bytes_per_sec: 64 * 1024,
            handler_timeout_secs: 60,
            backup_dir: None,
            backup_interval_minutes: 10,
            backup_keep: 48,
            handover_dirs: vec![PathBuf::from("/media/pingshen")],
            office_pubkey: None,
        }
    }
}

impl Config {
    /// Reads the file if given; a missing file named explicitly is an error, not a silent default.
    pub fn load(path: Option<&Path>) -> Result<Config, String> {
        let cfg = match path {
            None => Config::default(),
            Some(p) => {
                let text =
                    std::fs::read_to_string(p).map_err(|e| format!("cannot read config file {}: {e}", p.display()))?;
                toml::from_str(&text).map_err(|e| format!("config file {}: {e}", p.display()))?
            }
        };
        cfg.check()?;
        Ok(cfg)
    }

    /// Workers for pages and forms. Handlers are CPU-bound (SQLite reads, rendering), so more
    /// than two per core only multiplies the memory of pages in flight: with 16 on two cores
    /// the committee's 1,000-applicant pages took the server from 90 to 190 MB (BENCHMARKS.md).
    pub fn worker_threads(&self) -> usize {
        match self.threads {
            0 => std::thread::available_parallelism().map(|n| n.get() * 2).unwrap_or(4).max(4),
            n => n,
        }
    }

    pub fn check(&self) -> Result<(), String> {
        if !(4..=31).contains(&self.bcrypt_cost) {
            return Err(format!("bcrypt_cost must be 4..=31, got {}", self.bcrypt_cost));
        }
        if self.threads > 1024 {
            return Err(format!("threads must be 0 (automatic) to 1024, got {}", self.threads));
        }
        if !(-12..=14).contains(&self.utc_offset_hours) {
            return Err("utc_offset_hours must be -12..=14".into());
        }
        if self.tls_cert.is_some() != self.tls_key.is_some() {
            return Err("tls_cert and tls_key must be set together".into());
        }
        if log_level(&self.log_level).is_none() {
            return Err(format!("log_level must be one of error, warn, info, debug, trace; got {:?}", self.log_level));
        }
        Ok(())
    }

    pub fn log_path(&self) -> PathBuf {
        self.log_file.clone().unwrap_or_else(|| self.data_dir.join("pingshen.log"))
    }

    pub fn body_limit(&self) -> u64 {
        self.body_limit_kb * 1024
    }

    pub fn upload_limit(&self) -> u64 {
        self.upload_limit_mb * 1024 * 1024
    }
}

/// `config.example.toml`, compiled in: `pingshen config` prints it.
pub const EXAMPLE: &str = include_str!("../config.example.toml");

/// The example with a venue's three choices: HTTPS on 443 and the service's state directory.
pub fn venue_config() -> String {
    EXAMPLE
        .lines()
        .map(|l| match l {
            l if l.starts_with("listen = ") => "listen = \"0.0.0.0:443\"".to_string(),
            l if l.starts_with("data_dir = ") => "data_dir = \"/var/lib/pingshen\"".to_string(),
            "tls = false" => "tls = true".to_string(),
            l => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

pub fn log_level(s: &str) -> Option<log::LevelFilter> {
    Some(match s {
        "error" => log::LevelFilter::Error,
        "warn" => log::LevelFilter::Warn,
        "info" => log::LevelFilter::Info,
        "debug" => log::LevelFilter::Debug,
        "trace" => log::LevelFilter::Trace,
        _ => return None,
    })
}

/// The machine's LAN IPv4 addresses (what slips print and the TLS certificate names).
pub fn lan_ips() -> Vec<std::net::Ipv4Addr> {
    if_addrs::get_if_addrs()
        .unwrap_or_default()
        .into_iter()
        .filter(|i| !i.is_loopback())
        .filter_map(|i| match i.ip() {
            std::net::IpAddr::V4(v4) if !v4.is_link_local() => Some(v4),
            _ => None,
        })
        .collect()
}

/// Base URLs for slips and the banner: `public_url`, or one per LAN IPv4 address.
pub fn venue_addresses(cfg: &Config, bound: std::net::SocketAddr) -> Vec<String> {
    if let Some(u) = &cfg.public_url {
        let u = u.trim_end_matches('/');
        return vec![format!("{u}/")];
    }
    let port = bound.port();
    let scheme = if cfg.tls { "https" } else { "http" };
    if !bound.ip().is_unspecified() {
        return vec![format!("{scheme}://{}:{port}/", bound.ip())];
    }
    let mut out: Vec<String> = lan_ips().into_iter().map(|ip| format!("{scheme}://{ip}:{port}/")).collect();
    if out.is_empty() {
        out.push(format!("{scheme}://127.0.0.1:{port}/"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_config_parses_and_matches_defaults() {
        let parsed: Config = toml::from_str(EXAMPLE).expect("config.example.toml parses");
        let d = Config::default();
        assert_eq!(parsed.listen, d.listen);
        assert_eq!(parsed.bcrypt_cost, d.bcrypt_cost);
        assert_eq!(parsed.session_idle_minutes, d.session_idle_minutes);
        assert_eq!(parsed.upload_limit_mb, d.upload_limit_mb);
        assert_eq!(parsed.login_max_failures_per_account, d.login_max_failures_per_account);
    }

    #[test]
    fn venue_config_switches_on_https() {
        let c: Config = toml::from_str(&venue_config()).unwrap();
        assert!(c.tls);
        assert_eq!(c.listen, "0.0.0.0:443");
        assert_eq!(c.data_dir, std::path::PathBuf::from("/var/lib/pingshen"));
    }

    #[test]
    fn unknown_key_is_rejected() {
        assert!(toml::from_str::<Config>("lisen = \"x\"").is_err());
    }
}
