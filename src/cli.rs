//! The command line: `serve`, `import`, `office`, `accounts`, `paper-pack`, `key`, `bundle`,
//! `verify`, `doctor`, `restore`, `rehearsal`, `handover`, `wipe`, `config`. Each subcommand is a thin wrapper over
//! library functions; exit codes are stable for scripts (0 ok, 1 error, 2 bad package/usage).

use crate::accounts;
use crate::config::{self, Config};
use crate::demo;
use crate::package;
use crate::rules::Mode;
use crate::store::Db;
use crate::web::{self, App};
use clap::{Parser, Subcommand};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Parser)]
#[command(
    name = "pingshen",
    version,
    about = "职称评审系统 — runs a professional-title review meeting on an isolated venue LAN",
    long_about = "pingshen (评审) runs a whole professional-title review meeting (职称评审会) from one binary:\n\
                  load the session package from the title office, hand out accounts, serve the venue's\n\
                  browsers through the group and committee votes, and write the signed result bundle\n\
                  that the office checks offline with `pingshen verify`.\n\n\
                  Quick start:  pingshen serve --demo      (a demo session; accounts are printed)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start the web server for the venue.
    Serve {
        /// Configuration file (TOML); see config.example.toml. Flags override it.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Address and port to listen on, e.g. 0.0.0.0:8080 (port 0 picks a free one).
        #[arg(long, value_name = "ADDR:PORT")]
        listen: Option<String>,
        /// Data directory (database, materials, logs). Default: pingshen-data, or
        /// pingshen-demo-data with --demo.
        #[arg(long, value_name = "DIR")]
        data: Option<PathBuf>,
        /// Load the built-in demo session in the given mode: expert_review (default),
        /// lecture_defense or interview_defense (Chinese names accepted too).
        #[arg(long, value_name = "MODE", num_args = 0..=1, default_missing_value = "expert_review")]
        demo: Option<String>,
    },
    /// Check a session package and import it (package.json, package.xlsx, a directory, or a .zip).
    /// Every problem is listed with its place; nothing is written if there is any.
    Import {
        /// The package: a package.json / package.xlsx file, a directory holding one, or a .zip.
        package: PathBuf,
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        #[arg(long, value_name = "DIR")]
        data: Option<PathBuf>,
        /// Only check the package; write nothing.
        #[arg(long)]
        check: bool,
        /// The title office's public key (a .pub file or the base64 key): import only a package
        /// whose signature (PACKAGE.minisig beside it) it verifies. Overrides `office_pubkey`.
        #[arg(long, value_name = "KEY|FILE")]
        office_pubkey: Option<String>,
    },
    /// List accounts, or generate passwords and write the printable slips and account lists.
    Accounts {
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        #[arg(long, value_name = "DIR")]
        data: Option<PathBuf>,
        /// Generate new passwords and write them: a .html (slips), .csv or .xlsx file, or a
        /// directory (all three). Plain passwords exist only in these files: print, hand out, delete.
        #[arg(long, value_name = "FILE|DIR")]
        out: Option<PathBuf>,
        /// Only these people (expert codes), e.g. to replace a lost slip. Repeatable.
        #[arg(long, value_name = "CODE")]
        only: Vec<String>,
        /// Allow generating new passwords for everyone when passwords were already issued
        /// (the old ones stop working).
        #[arg(long)]
        reissue: bool,
        /// Set a new random admin password and print it.
        #[arg(long)]
        reset_admin: bool,
    },
    /// Write the emergency paper-voting pack (应急纸质投票包) before the meeting: one printable
    /// HTML per stage (each group and the committee) with blank ballots, tally sheets and an
    /// attendance sheet, for a venue where the network or the appliance fails.
    PaperPack {
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        #[arg(long, value_name = "DIR")]
        data: Option<PathBuf>,
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// Print the appliance's signing key (public key, key id, fingerprint); --init makes it.
    Key {
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        #[arg(long, value_name = "DIR")]
        data: Option<PathBuf>,
        /// Make the key pair if there is none yet.
        #[arg(long)]
        init: bool,
    },
    /// Write the signed result bundle of a reported session again (same content, new signature).
    Bundle {
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        #[arg(long, value_name = "DIR")]
        data: Option<PathBuf>,
        /// Where to write the zip. Default: <data dir>/<session id>-result.zip
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Print the documented configuration file: every setting with its default, or (--venue)
    /// as a venue install uses it (HTTPS on 443, data in /var/lib/pingshen).
    Config {
        #[arg(long)]
        venue: bool,
    },
    /// Restore a backup (a pingshen-….db file from the backup directory) onto an empty data dir.
    Restore {
        backup: PathBuf,
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        #[arg(long, value_name = "DIR")]
        data: Option<PathBuf>,
    },
    /// The venue checklist: data dir, disk space, port, clock, LAN addresses, HTTPS, key.
    Doctor {
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        #[arg(long, value_name = "DIR")]
        data: Option<PathBuf>,
        #[arg(long, value_name = "ADDR:PORT")]
        listen: Option<String>,
    },
    /// 彩排: start or end a rehearsal on a copy of the session, or show its status and the
    /// session's content hash. With the server stopped (the console does it live).
    Rehearsal {
        #[arg(value_enum)]
        action: RehearsalAction,
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        #[arg(long, value_name = "DIR")]
        data: Option<PathBuf>,
    },
    /// 交接: check the reported session's bundle with the appliance key, copy it to each
    /// --copy-to directory (flushed, read back, compared), and print the handover form.
    Handover {
        /// A directory on the medium (a mounted USB stick); repeat for several copies.
        #[arg(long = "copy-to", value_name = "DIR")]
        copy_to: Vec<PathBuf>,
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        #[arg(long, value_name = "DIR")]
        data: Option<PathBuf>,
    },
    /// 清除本机数据: after the report and a verified handover copy, overwrite and remove the
    /// session's database, materials, logs, bundle, account lists and backups; leave a signed
    /// wipe-record.txt. With the server stopped.
    Wipe {
        /// The session id, typed to confirm.
        #[arg(long, value_name = "ID")]
        session: String,
        /// Wipe even before the report or without a verified copy, or with the backup
        /// directory unreachable; the record says so.
        #[arg(long)]
        force: bool,
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        #[arg(long, value_name = "DIR")]
        data: Option<PathBuf>,
    },
    /// Check a result bundle offline: signature, files, hashes, audit chain, recount, key.
    /// Exit 0 only when every check passes.
    /// The title office's side: `office init` makes the office key and registry, `office issue`
    /// signs a package as it travels to the venue.
    Office {
        #[command(subcommand)]
        action: OfficeAction,
    },
    Verify {
        /// The bundle: the .zip, or a directory of its files.
        bundle: PathBuf,
        /// The appliance's public key as recorded by the office: the base64 key or a .pub file.
        #[arg(long, value_name = "KEY|FILE")]
        pubkey: Option<String>,
    },
}

pub fn main() -> i32 {
    run_from(std::env::args_os())
}

/// The command line from explicit arguments (the load generator runs the server this way).
pub fn run_from<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = Cli::parse_from(args);
    let result = match cli.command {
        Command::Serve { config, listen, data, demo } => serve(config, listen, data, demo),
        Command::Import { package, config, data, check, office_pubkey } => {
            import(&package, config, data, check, office_pubkey.as_deref())
        }
        Command::Office { action } => office_cmd(action),
        Command::Accounts { config, data, out, only, reissue, reset_admin } => {
            accounts_cmd(config, data, out, only, reissue, reset_admin)
        }
        Command::Key { config, data, init } => key_cmd(config, data, init),
        Command::PaperPack { config, data, out } => paper_pack_cmd(config, data, &out),
        Command::Bundle { config, data, out } => bundle_cmd(config, data, out),
        Command::Verify { bundle, pubkey } => verify_cmd(&bundle, pubkey.as_deref()),
        Command::Doctor { config, data, listen } => doctor_cmd(config, data, listen),
        Command::Restore { backup, config, data } => restore_cmd(&backup, config, data),
        Command::Rehearsal { action, config, data } => rehearsal_cmd(action, config, data),
        Command::Handover { copy_to, config, data } => handover_cmd(&copy_to, config, data),
        Command::Wipe { session, force, config, data } => wipe_cmd(&session, force, config, data),
        Command::Config { venue } => {
            print!("{}", if venue { config::venue_config() } else { config::EXAMPLE.to_string() });
            Ok(())
        }
    };
    match result {
        Ok(()) => 0,
        Err((code, msg)) => {
            if !msg.is_empty() {
                eprintln!("错误: {msg}");
            }
            code
        }
    }
}

type CmdResult = Result<(), (i32, String)>;

fn fail(e: impl std::fmt::Display) -> (i32, String) {
    (1, e.to_string())
}

fn load_config(path: Option<PathBuf>, data: Option<PathBuf>) -> Result<Config, (i32, String)> {
    let mut cfg = Config::load(path.as_deref()).map_err(|e| (2, e))?;
    if let Some(d) = data {
        cfg.data_dir = d;
    }
    Ok(cfg)
}

fn init_logging(cfg: &Config) -> Result<(), (i32, String)> {
    use simplelog::*;
    let level = config::log_level(&cfg.log_level).unwrap_or(log::LevelFilter::Info);
    let mut builder = ConfigBuilder::new();
    builder.set_time_offset_to_local().unwrap_or_else(|b| b);
    if level < log::LevelFilter::Debug {
        // rustls warns once per connection about what a client sent (an IP address as SNI,
        // as wrk and some tools do): a line per connection that any device could ask for.
        // Handshake failures reach us as errors and are logged (at debug) with the address.
        builder.add_filter_ignore_str("rustls");
    }
    let log_cfg = builder.build();
    let path = cfg.log_path();
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(fail)?;
    }
    let file = crate::logfile::RotatingFile::open(&path, cfg.log_max_mb.max(1) * 1024 * 1024, cfg.log_keep)
        .map_err(|e| fail(format!("cannot open log file {}: {e}", path.display())))?;
    // A second init (tests that run two commands in one process) keeps the first logger.
    if CombinedLogger::init(vec![
        TermLogger::new(level, log_cfg.clone(), TerminalMode::Stderr, ColorChoice::Never),
        WriteLogger::new(level, log_cfg, file),
    ])
    .is_err()
    {
        log::debug!("logger already set");
    }
    Ok(())
}

/// glibc gives each thread that allocates concurrently its own arena (up to eight per core),
/// and each arena keeps the freed memory of the large pages it rendered: with hundreds of
/// connection threads that alone came to hundreds of MB. Two arenas bound it, and big buffers
/// (rendered pages) go straight to mmap so they are returned when freed (BENCHMARKS.md).
#[allow(unsafe_code)]
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator tunable; called before the server's threads start.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1024 * 1024);
    }
}

/// The demo flag also takes short names: 1/2/3, 专家评审, 讲课答辩, 面试答辩.
fn parse_mode_flag(s: &str) -> Option<Mode> {
    Mode::parse(s).or(match s.trim() {
        "1" | "专家评审" => Some(Mode::ExpertReview),
        "2" | "讲课答辩" => Some(Mode::LectureDefense),
        "3" | "面试答辩" => Some(Mode::InterviewDefense),
        _ => None,
    })
}

fn serve(config: Option<PathBuf>, listen: Option<String>, data: Option<PathBuf>, demo: Option<String>) -> CmdResult {
    limit_malloc_arenas();
    let demo_mode = match &demo {
        None => None,
        Some(m) => Some(parse_mode_flag(m).ok_or_else(|| {
            (2, format!("未知的评审模式「{m}」：应为 expert_review、lecture_defense 或 interview_defense"))
        })?),
    };
    let explicit_data = data.is_some() || config.is_some();
    let mut cfg = load_config(config, data)?;
    if let Some(l) = listen {
        cfg.listen = l;
    }
    // An IP literal only: pingshen never resolves host names (a static binary could not).
    if cfg.listen.parse::<SocketAddr>().is_err() {
        return Err((2, format!("listen address {:?} must be IP:PORT, e.g. 0.0.0.0:8080", cfg.listen)));
    }
    if demo_mode.is_some() && !explicit_data {
        cfg.data_dir = PathBuf::from("pingshen-demo-data");
    }
    init_logging(&cfg)?;
    let _lock = crate::store::lock_data_dir(&cfg.data_dir)
        .map_err(fail)?
        .ok_or((1, format!("数据目录 {} 已被另一个 pingshen 服务使用。", cfg.data_dir.display())))?;
    let db = Db::open(&cfg.data_dir, cfg.utc_offset_hours).map_err(fail)?;
    if let Some(mode) = demo_mode {
        let fresh = demo::install(&db, &cfg.data_dir, mode, cfg.bcrypt_cost).map_err(fail)?;
        log::info!("demo session {} ({})", if fresh { "loaded" } else { "kept" }, mode.code());
    }
    if let Some(pw) = accounts::ensure_admin(&db, cfg.bcrypt_cost).map_err(fail)? {
        println!("================================================================");
        println!(" 管理员账号已创建（只显示这一次，请抄下并妥善保管）");
        println!(" 用户名: admin    密码: {pw}");
        println!(" 忘记密码时: pingshen accounts --reset-admin --data {}", cfg.data_dir.display());
        println!("================================================================");
    }
    let (key, made) = crate::bundle::key::load_or_create(&cfg.data_dir).map_err(fail)?;
    if made {
        println!("已生成本机签名密钥 {}（请职改办记录公钥：pingshen key）", key.id());
    }
    let cfg_for_app = cfg.clone();
    let app = Arc::new(App::new(cfg_for_app, db, Vec::new()));
    if let Some(dir) = cfg.backup_dir.clone() {
        let (bapp, keep) = (app.clone(), cfg.backup_keep);
        let trigger = crate::store::backup::start(
            move |reason| crate::store::backup::backup_now(&bapp.db, &bapp.data_dir, &dir, keep, reason),
            std::time::Duration::from_secs(cfg.backup_interval_minutes.max(1) * 60),
        );
        trigger.now("start");
        if app.backup.set(trigger).is_err() {
            log::warn!("backups were already started");
        }
    }
    let handler_app = app.clone();
    let listener =
        std::net::TcpListener::bind(&cfg.listen).map_err(|e| fail(format!("cannot listen on {}: {e}", cfg.listen)))?;
    let mut server = crate::net::server::Server::new(
        listener,
        connection_limits(&cfg),
        {
            let app = handler_app.clone();
            move |req| web::body_limit(&app, req)
        },
        web::lane,
        move |req| web::handle(&handler_app, req),
    )
    .map_err(|e| fail(format!("cannot start the HTTP workers: {e}")))?
    .with_spool(web::http::spool_dir(&cfg.data_dir))
    .map_err(|e| fail(format!("cannot prepare the upload spool directory: {e}")))?;
    let bound = server.server_addr().map_err(fail)?;
    let addresses = config::venue_addresses(&cfg, bound);
    app.set_addresses(addresses.clone());
    if cfg.tls {
        let names: Vec<String> = config::lan_ips().into_iter().map(|ip| ip.to_string()).collect();
        let cert =
            crate::net::tls::load_or_generate(cfg.tls_cert.as_deref(), cfg.tls_key.as_deref(), &cfg.data_dir, &names)
                .map_err(|e| (1, format!("TLS: {e}")))?;
        println!("HTTPS 证书指纹 (SHA-256): {}", cert.fingerprint);
        if app.tls_fingerprint.set(cert.fingerprint.clone()).is_err() {
            log::warn!("the TLS fingerprint was already set");
        }
        server = server.with_tls(crate::net::tls::server_config(cert).map_err(|e| (1, format!("TLS: {e}")))?);
    }
    if app.connections.set(server.stats()).is_err() {
        log::warn!("connection stats were already set");
    }
    // For `pingshen doctor`, run while serving: who holds connections (the NAT warning).
    let (stats, stats_path) = (server.stats(), cfg.data_dir.join(crate::net::server::STATS_FILE));
    let spawned = std::thread::Builder::new().name("connection-stats".into()).spawn(move || loop {
        if let Err(e) = stats.write(&stats_path) {
            log::debug!("cannot write {}: {e}", stats_path.display());
        }
        std::thread::sleep(crate::net::server::STATS_EVERY);
    });
    if let Err(e) = spawned {
        log::warn!("connection figures for pingshen doctor are off: {e}");
    }
    raise_open_files_limit();
    println!("pingshen {} — 职称评审系统", env!("CARGO_PKG_VERSION"));
    println!("数据目录: {}", cfg.data_dir.display());
    println!("请在会场局域网内用浏览器打开:");
    for a in &addresses {
        println!("    {a}");
    }
    if demo_mode.is_some() {
        println!("演示账号（仅演示用，正式会务的账号由系统随机生成）:");
        for a in demo::accounts_table(&app.db).map_err(fail)? {
            println!("    {:<14} {:<12} {}  {}", a.username, a.password, a.name, a.roles);
        }
    }
    println!("pingshen: listening on {bound}");
    log::info!("listening on {bound}");
    server.run();
    Ok(())
}

/// The connection layer's caps and deadlines.
fn connection_limits(cfg: &Config) -> crate::net::server::Limits {
    let secs = |s: u64| std::time::Duration::from_secs(s.max(1));
    let max = cfg.max_connections.max(1);
    crate::net::server::Limits {
        threads: cfg.worker_threads(),
        max_connections: max,
        max_per_address: if cfg.max_connections_per_address == 0 {
            (max / 2).max(1)
        } else {
            cfg.max_connections_per_address
        },
        idle: secs(cfg.idle_timeout_secs),
        request: secs(cfg.request_timeout_secs),
        upload: secs(cfg.upload_timeout_secs),
        handshake: secs(cfg.tls_handshake_timeout_secs),
        write: secs(cfg.write_timeout_secs),
        min_rate: cfg.min_send_bytes_per_sec.max(1),
        handler: secs(cfg.handler_timeout_secs),
        queue: crate::net::server::QUEUE,
        park: crate::net::server::PARK,
    }
}

/// Raises the soft limit on open files to the hard one and says so: at the usual soft 1024 a
/// few hundred idle connections made every real user's connection fail.
fn raise_open_files_limit() {
    match rlimit_nofile() {
        Ok((soft, hard)) if soft < hard => match set_rlimit_nofile(hard) {
            Ok(()) => log::info!("open files limit raised from {soft} to {hard}"),
            Err(e) => log::warn!("cannot raise the open files limit from {soft}: {e}"),
        },
        Ok((soft, _)) => log::info!("open files limit: {soft}"),
        Err(e) => log::warn!("open files limit unknown: {e}"),
    }
}

#[allow(unsafe_code)]
fn rlimit_nofile() -> std::io::Result<(u64, u64)> {
    let mut r = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit writes one rlimit struct we own.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok((r.rlim_cur, r.rlim_max))
}

#[allow(unsafe_code)]
fn set_rlimit_nofile(to: u64) -> std::io::Result<()> {
    let (_, hard) = rlimit_nofile()?;
    let r = libc::rlimit { rlim_cur: to, rlim_max: hard };
    // SAFETY: setrlimit reads one rlimit struct we own.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &r) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

fn import(
    path: &Path,
    config: Option<PathBuf>,
    data: Option<PathBuf>,
    check_only: bool,
    office_pubkey: Option<&str>,
) -> CmdResult {
    let cfg = load_config(config, data)?;
    let office = office_key(office_pubkey, &cfg)?;
    let mut loaded = match package::load_path(path, cfg.upload_limit()) {
        Ok(l) => l,
        Err(problems) => {
            // Every problem with its place, then one line a clerk reads first.
            for p in &problems {
                eprintln!("  - {}", crate::office::terminal_safe(&p.to_string()));
            }
            eprintln!("{}", package::problems_line(problems.len()));
            return Err((2, String::new()));
        }
    };
    match &office {
        // The office signs the file as it travels: PACKAGE.minisig beside it.
        Some(pk) => {
            if path.is_dir() {
                return Err((
                    2,
                    "已设置职改办公钥：请导入职改办签发的文件（如 .zip）及其 .minisig 签名，不能直接导入目录。".into(),
                ));
            }
            let sig_path = PathBuf::from(format!("{}.minisig", path.display()));
            let sig = match std::fs::read_to_string(&sig_path) {
                Ok(t) => Some(t),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(e) => return Err((1, format!("{}: {e}", sig_path.display()))),
            };
            let file = std::fs::File::open(path).map_err(fail)?;
            let id = package::signature::check(pk, sig.as_deref(), file, &loaded.package.session.id, &loaded.sha256)
                .map_err(|why| (2, format!("{why}（未导入任何内容）")))?;
            println!("职改办签名有效（密钥 {id}）");
            loaded.office_key_id = Some(id);
        }
        None => println!("提示: 未设置职改办公钥 (office_pubkey)，会务包来源未验证。"),
    }
    for w in &loaded.warnings {
        println!("提示: {w}");
    }
    if check_only {
        let p = &loaded.package;
        println!("会务包: {} ({})", crate::office::terminal_safe(&p.session.name), p.session.id);
        println!("{}", package::passed_line(p.groups.len(), p.experts.len(), p.applicants.len()));
        return Ok(());
    }
    init_logging(&cfg)?;
    let db = Db::open(&cfg.data_dir, cfg.utc_offset_hours).map_err(fail)?;
    let summary = package::import(&db, &cfg.data_dir, &mut loaded, "admin-cli", false)
        .map_err(|e| (if e.kind == crate::error::Kind::Conflict { 3 } else { 1 }, e.to_string()))?;
    println!(
        "已导入 {}: {} 个专业组, {} 名专家, 评委会 {} 人, {} 名申报人, {} 条回避, {} 份材料",
        summary.session_id,
        summary.groups,
        summary.experts,
        summary.committee,
        summary.applicants,
        summary.recusals,
        summary.materials
    );
    if let Some(pw) = accounts::ensure_admin(&db, cfg.bcrypt_cost).map_err(fail)? {
        println!("管理员账号已创建（只显示这一次）: 用户名 admin  密码 {pw}");
    }
    println!("下一步: pingshen accounts --out 账号条/ --data {}   生成账号密码条", cfg.data_dir.display());
    Ok(())
}

fn accounts_cmd(
    config: Option<PathBuf>,
    data: Option<PathBuf>,
    out: Option<PathBuf>,
    only: Vec<String>,
    reissue: bool,
    reset_admin: bool,
) -> CmdResult {
    let cfg = load_config(config, data)?;
    let db = Db::open(&cfg.data_dir, cfg.utc_offset_hours).map_err(fail)?;
    if reset_admin {
        let pw = accounts::reset_admin(&db, cfg.bcrypt_cost).map_err(fail)?;
        println!("管理员新密码（只显示这一次）: 用户名 admin  密码 {pw}");
        return Ok(());
    }
    let session = db.read(crate::venue::session).map_err(fail)?.ok_or((1, "尚未导入会务包。".to_string()))?;
    let Some(out) = out else {
        let experts = db.read(|c| crate::venue::experts(c, None)).map_err(fail)?;
        println!("{} ({})", session.name, session.session_id);
        println!("{:<6} {:<10} {:<12} {:<20} 密码", "编号", "姓名", "用户名", "角色");
        for e in experts {
            let issued =
                if e.issued_at.is_empty() { "未发放".to_string() } else { format!("已发放 {}", e.issued_at) };
            println!("{:<6} {:<10} {:<12} {:<20} {}", e.code, e.name, e.username, e.roles, issued);
        }
        return Ok(());
    };
    let any_issued = db
        .read(|c| {
            Ok(c.query_row(
                "SELECT EXISTS (SELECT 1 FROM accounts WHERE is_admin = 0 AND password_hash IS NOT NULL)",
                [],
                |r| r.get::<_, bool>(0),
            )?)
        })
        .map_err(fail)?;
    if any_issued && only.is_empty() && !reissue {
        return Err((
            2,
            "已经发放过密码。要为所有人重新生成（旧密码将失效）请加 --reissue；补发个别人请用 --only 编号".into(),
        ));
    }
    let only_ref = (!only.is_empty()).then_some(only.as_slice());
    let slips = accounts::issue_passwords(&db, cfg.bcrypt_cost, only_ref, "admin-cli").map_err(fail)?;
    let bind: SocketAddr = cfg.listen.parse().unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 8080)));
    let address = config::venue_addresses(&cfg, bind).remove(0);
    let templates = crate::render::Templates::load();
    let ext = out.extension().and_then(|e| e.to_str()).unwrap_or("").to_lowercase();
    let mut written = Vec::new();
    let data_dir = cfg.data_dir.clone();
    let mut write = |path: PathBuf, bytes: Vec<u8>| -> CmdResult {
        std::fs::write(&path, bytes).map_err(|e| fail(format!("cannot write {}: {e}", path.display())))?;
        // Passwords in plain text: the wipe must find this file later.
        crate::bundle::wipe::note_export(&data_dir, &path).map_err(fail)?;
        written.push(path);
        Ok(())
    };
    let page = crate::slips::SlipPage {
        session_name: &session.name,
        address: &address,
        key_fingerprint: crate::bundle::key::load(&cfg.data_dir).map_err(fail)?.map(|k| k.fingerprint()),
        tls_fingerprint: if cfg.tls {
            crate::net::tls::configured_fingerprint(cfg.tls_cert.as_deref(), &cfg.data_dir)
        } else {
            None
        },
        standalone: true,
    };
    let html = || crate::slips::slips_html(&templates, &page, &slips).map_err(fail);
    match ext.as_str() {
        "html" | "htm" => write(out.clone(), html()?.into_bytes())?,
        "csv" => write(out.clone(), crate::slips::csv(&slips))?,
        "xlsx" => write(out.clone(), crate::slips::xlsx(&slips).map_err(fail)?)?,
        _ => {
            std::fs::create_dir_all(&out).map_err(fail)?;
            write(out.join("slips.html"), html()?.into_bytes())?;
            write(out.join("accounts.csv"), crate::slips::csv(&slips))?;
            write(out.join("accounts.xlsx"), crate::slips::xlsx(&slips).map_err(fail)?)?;
        }
    }
    println!("已为 {} 人生成新密码。", slips.len());
    for p in written {
        println!("  {}", p.display());
    }
    println!("这些文件含有明文密码：打印、分发后请删除。");
    Ok(())
}

fn paper_pack_cmd(config: Option<PathBuf>, data: Option<PathBuf>, out: &Path) -> CmdResult {
    let cfg = load_config(config, data)?;
    let db = Db::open(&cfg.data_dir, cfg.utc_offset_hours).map_err(fail)?;
    let s = db.read(crate::venue::session).map_err(fail)?.ok_or((1, "尚未导入会务包。".to_string()))?;
    let stages = db.read(crate::ballot::paper::pack).map_err(fail)?;
    let reported = db.read(crate::store::is_reported).map_err(fail)?;
    let t = crate::render::Templates::load();
    let css = crate::render::static_asset("app.css").map(|(b, _)| String::from_utf8_lossy(&b).into_owned());
    std::fs::create_dir_all(out).map_err(|e| (1, format!("{}: {e}", out.display())))?;
    for p in &stages {
        let html = t
            .render(
                "paper_pack_standalone.html",
                serde_json::json!({
                    "p": p, "session_name": s.name, "codes_only": s.blind && !reported, "inline_css": css,
                }),
            )
            .map_err(fail)?;
        // Scopes are codes (a safe alphabet): fit for a file name.
        let file = out.join(format!("应急纸质投票包-{}.html", p.scope));
        std::fs::write(&file, html).map_err(|e| (1, format!("{}: {e}", file.display())))?;
        println!("{}  {}（投票人 {} 人，申报人 {} 人）", file.display(), p.scope_name, p.voters.len(), p.rows.len());
    }
    println!("用浏览器打开后打印（或另存为 PDF）；每份封面写明各表的打印份数。");
    Ok(())
}

fn key_cmd(config: Option<PathBuf>, data: Option<PathBuf>, init: bool) -> CmdResult {
    let cfg = load_config(config, data)?;
    let key = if init {
        let (k, made) = crate::bundle::key::load_or_create(&cfg.data_dir).map_err(fail)?;
        if made {
            println!("已生成新的签名密钥。");
        }
        k
    } else {
        crate::bundle::key::load(&cfg.data_dir)
            .map_err(fail)?
            .ok_or((1, format!("{} 中还没有签名密钥：运行 pingshen key --init", cfg.data_dir.display())))?
    };
    println!("public key:  {}", key.public_base64());
    println!("key id:      {}", key.id());
    println!("fingerprint: SHA256 {}", key.fingerprint());
    println!("file:        {}", cfg.data_dir.join(crate::bundle::key::PUBLIC_FILE).display());
    println!("check a bundle: pingshen verify <bundle.zip> --pubkey {}", key.public_base64());
    Ok(())
}

fn bundle_cmd(config: Option<PathBuf>, data: Option<PathBuf>, out: Option<PathBuf>) -> CmdResult {
    let cfg = load_config(config, data)?;
    let db = Db::open(&cfg.data_dir, cfg.utc_offset_hours).map_err(fail)?;
    let (key, _) = crate::bundle::key::load_or_create(&cfg.data_dir).map_err(fail)?;
    let t = crate::render::Templates::load();
    let session = db.read(crate::venue::session).map_err(fail)?.ok_or((1, "没有评审会。".to_string()))?;
    let path = match out {
        Some(p) => p,
        None => crate::bundle::path_for(&db, &session.session_id).map_err(fail)?,
    };
    let (_, head) = crate::bundle::write_streaming(&db, &t, &key, &path).map_err(|e| (1, e.to_string()))?;
    println!("{}", path.display());
    println!("audit head: {head}");
    Ok(())
}

fn wipe_cmd(session_id: &str, force: bool, config: Option<PathBuf>, data: Option<PathBuf>) -> CmdResult {
    let cfg = load_config(config, data)?;
    if !cfg.data_dir.join("pingshen.db").is_file() {
        return Err((1, format!("数据目录 {} 中没有会务数据库。", cfg.data_dir.display())));
    }
    let _lock = crate::store::lock_data_dir(&cfg.data_dir)
        .map_err(fail)?
        .ok_or((1, "服务正在运行：请在「会务管理 → 清除本机数据」中操作，或先停止服务。".to_string()))?;
    let db = Db::open(&cfg.data_dir, cfg.utc_offset_hours).map_err(fail)?;
    let s = db.read(crate::venue::session).map_err(fail)?.ok_or((1, "本机没有会务数据。".to_string()))?;
    if s.session_id != session_id {
        return Err((2, format!("--session {session_id} 与本机的会务编号不一致。")));
    }
    let t = crate::render::Templates::load();
    let r = crate::bundle::wipe::wipe(&db, &cfg, &t, force, "admin-cli").map_err(fail)?;
    print!("{}", crate::bundle::wipe::record_text(&r));
    println!("清除记录: {} (签名 {}.minisig)", r.record_path, r.record_path);
    if !r.complete() {
        return Err((1, "有文件未能清除，见清除记录。".into()));
    }
    Ok(())
}

fn handover_cmd(copy_to: &[PathBuf], config: Option<PathBuf>, data: Option<PathBuf>) -> CmdResult {
    use crate::bundle::handover;
    let cfg = load_config(config, data)?;
    let db = Db::open(&cfg.data_dir, cfg.utc_offset_hours).map_err(fail)?;
    let t = crate::render::Templates::load();
    let mut failed = Vec::new();
    for dir in copy_to {
        match handover::copy_to(&db, &cfg.data_dir, &t, dir) {
            Ok(c) => eprintln!("已复制并校验: {}", c.path),
            Err(e) => failed.push(e.message),
        }
    }
    let h = handover::status(&db, &cfg.data_dir, &t).map_err(fail)?;
    print!("{}", handover::record_text(&h));
    if !h.verified {
        return Err((1, "结果包未通过本机自检。".into()));
    }
    if !failed.is_empty() {
        // Each failure names its place, its reason and the fix.
        return Err((1, failed.join("\n错误: ")));
    }
    Ok(())
}

#[derive(Subcommand)]
pub enum OfficeAction {
    /// Make the office key pair (OFFICE/office.key, owner-only; OFFICE/office.pub) and an empty
    /// registry. Refused if the directory already holds a key.
    Init {
        #[arg(long, value_name = "OFFICE")]
        dir: PathBuf,
    },
    /// Sign a package exactly as it will travel (a directory is zipped first) and record it:
    /// writes PACKAGE.minisig beside it (`minisign -Vm PACKAGE -P KEY` checks it).
    Issue {
        /// package.json, a workbook, a .zip, or a directory holding the package and materials/.
        package: PathBuf,
        #[arg(long, value_name = "OFFICE")]
        dir: PathBuf,
        /// Replace a package already issued for the same session (the registry keeps both).
        #[arg(long)]
        replace: bool,
    },
    /// Record the appliance key of a session, typed from its signed 交接单 (--pubkey) or read
    /// from its handover-record.txt (--from; the record's own signature is checked).
    Register {
        session: String,
        #[arg(long, value_name = "KEY|FILE")]
        pubkey: Option<String>,
        #[arg(long, value_name = "FILE")]
        from: Option<PathBuf>,
        #[arg(long, value_name = "OFFICE")]
        dir: PathBuf,
    },
    /// Write the office's package workbook: the sheets, headers, drop-downs and text formats
    /// the importer expects, a 说明 sheet and a 示例 sheet; filled from an existing package
    /// with --from (importing it gives the same session).
    Template {
        #[arg(long, value_name = "FILE.xlsx")]
        out: PathBuf,
        /// package.json, a workbook, a directory or a .zip to fill the workbook from.
        #[arg(long, value_name = "PACKAGE")]
        from: Option<PathBuf>,
    },
    /// Check a season's result bundles at once (each as `verify` does, with its session's
    /// registered key, and against what was issued) and merge the clean ones into one workbook
    /// with a 问题 sheet. Exit 0 only when every bundle is clean and none is missing.
    Ingest {
        /// Bundles (.zip or unzipped directories) and directories holding them.
        #[arg(required = true)]
        bundles: Vec<PathBuf>,
        #[arg(long, value_name = "OFFICE")]
        dir: PathBuf,
        #[arg(long, value_name = "FILE.xlsx")]
        out: PathBuf,
    },
}

fn office_cmd(action: OfficeAction) -> CmdResult {
    match action {
        OfficeAction::Init { dir } => {
            let keys = crate::office::init(&dir).map_err(fail)?;
            println!("职改办密钥已生成: {}", dir.join(crate::office::PUBLIC_FILE).display());
            println!("密钥 ID: {}", crate::sign::key_id(&keys.pk));
            println!("指纹: {}", crate::sign::fingerprint(&keys.pk));
            println!("公钥: {}", keys.pk.to_base64());
            println!("会场设备的配置中设置 office_pubkey = \"{}\"，只导入本办签发的会务包。", keys.pk.to_base64());
            Ok(())
        }
        OfficeAction::Issue { package, dir, replace } => {
            let now = crate::store::now_rfc3339(8);
            let out = crate::office::issue(&dir, &package, replace, &now)
                .map_err(|e| (if e.kind == crate::error::Kind::Conflict { 3 } else { 2 }, e.message))?;
            println!("已签发 {}（{}）", out.issued.session_id, out.issued.name);
            println!("会务包: {}", out.file.display());
            println!("签名:   {}", out.signature.display());
            println!("SHA-256: {}", out.issued.sha256);
            println!("签名密钥 ID: {}", out.key_id);
            Ok(())
        }
        OfficeAction::Template { out, from } => {
            let notes = crate::office::template(&out, from.as_deref())
                .map_err(|e| (if e.kind == crate::error::Kind::Conflict { 3 } else { 2 }, e.message))?;
            for n in &notes {
                println!("提示: {}", crate::office::terminal_safe(n));
            }
            println!("已生成会务包工作簿: {}", out.display());
            println!("填好后检查: pingshen import --check {}", out.display());
            Ok(())
        }
        OfficeAction::Register { session, pubkey, from, dir } => {
            let now = crate::store::now_rfc3339(8);
            let a = crate::office::register(&dir, &session, pubkey.as_deref(), from.as_deref(), &now)
                .map_err(|e| (2, e.message))?;
            println!("已登记 {} 的设备公钥（密钥 ID {}）", a.session_id, a.key_id);
            Ok(())
        }
        OfficeAction::Ingest { bundles, dir, out } => {
            use crate::office::ingest;
            let registry = crate::office::load_registry(&dir).map_err(|e| (2, e.message))?;
            let paths = ingest::expand(&bundles).map_err(|e| (2, e.message))?;
            let report = ingest::ingest(&registry, &paths);
            for b in &report.bundles {
                // Paths and problems come from files on a stick: no control characters reach
                // the terminal.
                let path = crate::office::terminal_safe(&b.path);
                match b.problems.first() {
                    None => println!("通过  {path}  {}", b.session_id.as_deref().unwrap_or("")),
                    Some(p) => println!("问题  {path}: {}", crate::office::terminal_safe(p)),
                }
            }
            for (dup, same) in &report.duplicates {
                println!(
                    "重复  {}：与 {} 内容相同，已忽略",
                    crate::office::terminal_safe(dup),
                    crate::office::terminal_safe(same)
                );
            }
            for (id, name) in &report.missing {
                println!(
                    "缺失  {}（{}）：已签发，未收到结果包",
                    crate::office::terminal_safe(id),
                    crate::office::terminal_safe(name)
                );
            }
            let xlsx = ingest::workbook(&report).map_err(fail)?;
            std::fs::write(&out, xlsx).map_err(|e| (1, format!("{}: {e}", out.display())))?;
            let clean = report.bundles.iter().filter(|b| b.clean()).count();
            println!(
                "共 {} 个结果包：{clean} 个通过，{} 个有问题，{} 个会务未收到；汇总表 {}",
                report.bundles.len(),
                report.bundles.len() - clean,
                report.missing.len(),
                out.display()
            );
            if report.clean() {
                Ok(())
            } else {
                Err((1, String::new()))
            }
        }
    }
}

/// The office key for import: the command line's, else the config's; `None`: none set.
fn office_key(flag: Option<&str>, cfg: &Config) -> Result<Option<minisign::PublicKey>, (i32, String)> {
    match flag.or(cfg.office_pubkey.as_deref()) {
        None => Ok(None),
        Some(k) => crate::sign::parse_public(k).map(Some).map_err(|e| (2, format!("职改办公钥 (office_pubkey): {e}"))),
    }
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum RehearsalAction {
    Start,
    End,
    Status,
}

fn rehearsal_cmd(action: RehearsalAction, config: Option<PathBuf>, data: Option<PathBuf>) -> CmdResult {
    use crate::store::rehearsal;
    let cfg = load_config(config, data)?;
    if !cfg.data_dir.join("pingshen.db").is_file() {
        return Err((1, format!("数据目录 {} 中没有会务数据库。", cfg.data_dir.display())));
    }
    let _lock = match action {
        RehearsalAction::Status => None,
        _ => Some(crate::store::lock_data_dir(&cfg.data_dir).map_err(fail)?.ok_or((
            1,
            "服务正在运行：请在「会务管理 → 彩排」中操作，或先停止服务（systemctl stop pingshen）。".to_string(),
        ))?),
    };
    let db = Db::open(&cfg.data_dir, cfg.utc_offset_hours).map_err(fail)?;
    let actor = "admin-cli";
    match action {
        RehearsalAction::Start => {
            let hash = rehearsal::start(&db, &cfg.data_dir, actor).map_err(fail)?;
            println!("彩排已开始。会务内容校验值 (SHA-256): {hash}");
        }
        RehearsalAction::End => {
            let e = rehearsal::end(&db, &cfg.data_dir, actor).map_err(fail)?;
            println!(
                "彩排已结束（{} 至 {}）。",
                crate::store::display_time(&e.started_at),
                crate::store::display_time(&e.ended_at)
            );
            println!("开始时校验值: {}", e.hash_before);
            println!("现在的校验值: {}", e.hash_after);
            if e.hash_before != e.hash_after {
                return Err((1, "会务内容与彩排开始时不一致。".into()));
            }
        }
        RehearsalAction::Status => {
            let s = rehearsal::status(&db).map_err(fail)?;
            match &s.started_at {
                Some(at) => {
                    println!("彩排进行中（{} 开始）", crate::store::display_time(at));
                    println!("会务内容校验值 (SHA-256): {}", s.hash_before.unwrap_or_default());
                }
                None => {
                    println!("没有进行中的彩排");
                    println!("会务内容校验值 (SHA-256): {}", s.hash);
                }
            }
        }
    }
    Ok(())
}

fn verify_cmd(path: &Path, pubkey: Option<&str>) -> CmdResult {
    let pinned = match pubkey {
        Some(k) => Some(crate::bundle::key::parse_public(k).map_err(|e| (2, format!("--pubkey: {e}")))?),
        None => None,
    };
    let files = crate::bundle::verify::read_bundle(path).map_err(|e| (1, e))?;
    let checks = crate::bundle::verify::verify(&files, pinned.as_ref());
    for c in &checks {
        println!("{c}");
    }
    if crate::bundle::verify::passed(&checks) {
        println!("{}: verified", path.display());
        Ok(())
    } else {
        let failed = checks.last().map(|c| c.name).unwrap_or("?");
        Err((1, format!("verification failed at check \"{failed}\"")))
    }
}

fn doctor_cmd(config: Option<PathBuf>, data: Option<PathBuf>, listen: Option<String>) -> CmdResult {
    let mut cfg = load_config(config, data)?;
    if let Some(l) = listen {
        cfg.listen = l;
    }
    let findings = crate::doctor::run(&cfg);
    let mut failed = 0;
    for f in &findings {
        let tag = match f.level {
            crate::doctor::Level::Ok => "OK  ",
            crate::doctor::Level::Warn => "WARN",
            crate::doctor::Level::Fail => {
                failed += 1;
                "FAIL"
            }
        };
        println!("[{tag}] {}", f.what);
        if let Some(fix) = &f.fix {
            println!("       → {fix}");
        }
    }
    if failed > 0 {
        Err((1, format!("{failed} problem(s) to fix before the meeting")))
    } else {
        Ok(())
    }
}

fn restore_cmd(backup: &Path, config: Option<PathBuf>, data: Option<PathBuf>) -> CmdResult {
    let cfg = load_config(config, data)?;
    crate::store::backup::restore(backup, &cfg.data_dir).map_err(|e| (1, e.to_string()))?;
    println!("restored {} into {}", backup.display(), cfg.data_dir.display());
    println!("start it with: pingshen serve --data {}", cfg.data_dir.display());
    Ok(())
}
