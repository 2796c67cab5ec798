//! The shared harness: start the real `pingshen` binary on a free loopback port with a temp
//! data dir, and talk HTTP to it like a browser (cookies, CSRF tokens, no redirects followed).

#![allow(dead_code)]

mod venue;
pub use venue::*;

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_pingshen");

pub fn example_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/example")
}

pub struct Server {
    child: Option<Child>,
    pub base: String,
    pub data: PathBuf,
    pub config: PathBuf,
    pub stdout: Arc<Mutex<Vec<String>>>,
    _tmp: Option<tempfile::TempDir>,
}

/// Settings for tests: cheap bcrypt, quiet logs.
pub fn write_config(dir: &Path, extra: &str) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let cfg = dir.join("test-config.toml");
    let mut text = String::new();
    for (key, value) in [("bcrypt_cost", "4"), ("log_level", "\"warn\""), ("threads", "8")] {
        if !extra.contains(key) {
            text.push_str(&format!("{key} = {value}\n"));
        }
    }
    text.push_str(extra);
    std::fs::write(&cfg, text).unwrap();
    cfg
}

impl Server {
    /// The server process's peak resident memory so far (VmHWM), in MiB.
    pub fn peak_rss_mb(&self) -> u64 {
        let pid = self.child.as_ref().expect("a running server").id();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        let kb: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmHWM in /proc/PID/status");
        kb / 1024
    }

    /// The server process's open file descriptors and threads, from /proc.
    pub fn fds_and_threads(&self) -> (usize, usize) {
        let pid = self.child.as_ref().expect("a running server").id();
        let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).unwrap().count();
        let threads = std::fs::read_dir(format!("/proc/{pid}/task")).unwrap().count();
        (fds, threads)
    }

    pub fn start(extra_args: &[&str]) -> Server {
        Self::start_with(extra_args, "")
    }

    pub fn start_with(extra_args: &[&str], config_extra: &str) -> Server {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("data");
        let config = write_config(tmp.path(), config_extra);
        let mut s = Self::spawn(&data, &config, extra_args);
        s._tmp = Some(tmp);
        s
    }

    pub fn demo(mode: &str) -> Server {
        Self::start(&["--demo", mode])
    }

    /// Starts on an existing data dir (e.g. after a restart); the caller keeps the temp dir.
    pub fn spawn(data: &Path, config: &Path, extra_args: &[&str]) -> Server {
        Self::spawn_on(data, config, "127.0.0.1:0", extra_args)
    }

    /// Starts on a given address (a restart on the same port keeps a page's origin).
    pub fn spawn_on(data: &Path, config: &Path, listen: &str, extra_args: &[&str]) -> Server {
        let mut cmd = Command::new(BIN);
        cmd.args(["serve", "--listen", listen, "--data"]).arg(data).arg("--config").arg(config).args(extra_args);
        Self::spawn_command(cmd, data, config)
    }

    /// A fresh server started by `wrap(BIN, its serve arguments)`: e.g. under a shell that
    /// lowers `ulimit -n`, or with an environment variable set.
    pub fn start_wrapped(config_extra: &str, wrap: impl FnOnce(&str, Vec<String>) -> Command) -> Server {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("data");
        let config = write_config(tmp.path(), config_extra);
        let args = [
            "serve",
            "--demo",
            "--listen",
            "127.0.0.1:0",
            "--data",
            data.to_str().unwrap(),
            "--config",
            config.to_str().unwrap(),
        ];
        let cmd = wrap(BIN, args.iter().map(|a| a.to_string()).collect());
        let mut s = Self::spawn_command(cmd, &data, &config);
        s._tmp = Some(tmp);
        s
    }

    fn spawn_command(mut cmd: Command, data: &Path, config: &Path) -> Server {
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::null());
        let mut child = cmd.spawn().expect("spawn pingshen");
        let stdout = child.stdout.take().unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        {
            let lines = lines.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    if let Some(addr) = line.strip_prefix("pingshen: listening on ") {
                        let _ = tx.send(addr.to_string());
                    }
                    lines.lock().unwrap().push(line);
                }
            });
        }
        let addr = rx.recv_timeout(Duration::from_secs(60)).unwrap_or_else(|_| {
            let _ = child.kill();
            panic!("server did not start; stdout: {:?}", lines.lock().unwrap());
        });
        Server {
            child: Some(child),
            base: format!("http://{addr}"),
            data: data.to_path_buf(),
            config: config.to_path_buf(),
            stdout: lines,
            _tmp: None,
        }
    }

    /// Stops the process (like a power cut: SIGKILL) and starts it again on the same data dir.
    pub fn restart(mut self) -> Server {
        self.kill();
        let tmp = self._tmp.take();
        let mut s = Self::spawn(&self.data, &self.config, &[]);
        s._tmp = tmp;
        s
    }

    /// SIGKILL and start again on the same data dir, in place.
    pub fn respawn(&mut self) {
        self.kill();
        let mut fresh = Self::spawn(&self.data, &self.config, &[]);
        self.child = fresh.child.take();
        self.base = fresh.base.clone();
        self.stdout = fresh.stdout.clone();
    }

    /// Stops the process now (SIGKILL); `start_again_same_port` brings it back.
    pub fn stop(&mut self) {
        self.kill();
    }

    /// Starts again on the same data dir and the same port: open pages keep their origin
    /// (and so their browser storage), as at a venue where the laptop restarted.
    pub fn start_again_same_port(&mut self) {
        let listen = self.base.trim_start_matches("http://").to_string();
        let mut fresh = Self::spawn_on(&self.data, &self.config, &listen, &[]);
        self.child = fresh.child.take();
        self.base = fresh.base.clone();
        self.stdout = fresh.stdout.clone();
    }

    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn stdout_text(&self) -> String {
        self.stdout.lock().unwrap().join("\n")
    }

    /// The admin password printed once at first start.
    pub fn admin_password(&self) -> String {
        let text = self.stdout_text();
        let line = text.lines().find(|l| l.contains("用户名: admin")).expect("admin password line");
        line.rsplit("密码: ").next().unwrap().trim().to_string()
    }

    pub fn client(&self) -> Client {
        Client::new(&self.base)
    }

    pub fn login(&self, user: &str, password: &str) -> Client {
        let c = self.client();
        let r = c.login(user, password);
        assert_eq!(r.status, 303, "login {user} failed: {}", r.body);
        c
    }

    pub fn admin(&self) -> Client {
        let pw =
            if self.stdout_text().contains("admin-demo") { "admin-demo".to_string() } else { self.admin_password() };
        self.login("admin", &pw)
    }

    pub fn db(&self) -> rusqlite::Connection {
        let c = rusqlite::Connection::open(self.data.join("pingshen.db")).unwrap();
        c.busy_timeout(std::time::Duration::from_secs(10)).unwrap();
        c
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub body: String,
    pub bytes: Vec<u8>,
    pub headers: Vec<(String, String)>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
    pub fn location(&self) -> Option<&str> {
        self.header("Location")
    }
    /// The body with HTML entities decoded (minijinja escapes `/` and quotes too).
    pub fn text(&self) -> String {
        unescape(&self.body)
    }
}

pub fn unescape(html: &str) -> String {
    html.replace("&#x2f;", "/")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

pub struct Client {
    agent: ureq::Agent,
    pub base: String,
    pub cookies: RefCell<HashMap<String, String>>,
    pub csrf: RefCell<Option<String>>,
}

/// The value of the first `name="_csrf" value="…"` or the csrf meta tag in a page.
pub fn extract_csrf(body: &str) -> Option<String> {
    for marker in ["name=\"csrf-token\" content=\"", "name=\"_csrf\" value=\""] {
        if let Some(i) = body.find(marker) {
            let rest = &body[i + marker.len()..];
            return rest.find('"').map(|j| rest[..j].to_string());
        }
    }
    None
}

impl Client {
    /// A new client that carries an existing session (cookie and CSRF token), e.g. to act as
    /// the same signed-in person from another thread.
    pub fn with_session(base: &str, cookie: &str, token: &str) -> Client {
        let c = Client::new(base);
        c.cookies.borrow_mut().insert("pingshen_sid".into(), cookie.to_string());
        *c.csrf.borrow_mut() = Some(token.to_string());
        c
    }

    pub fn new(base: &str) -> Client {
        Client {
            agent: ureq::AgentBuilder::new().redirects(0).timeout(Duration::from_secs(60)).build(),
            base: base.to_string(),
            cookies: RefCell::new(HashMap::new()),
            csrf: RefCell::new(None),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies.borrow().iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    fn finish(&self, result: Result<ureq::Response, ureq::Error>) -> Resp {
        let resp = match result {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("transport error: {e}"),
        };
        let status = resp.status();
        let mut headers = Vec::new();
        for name in resp.headers_names() {
            for v in resp.all(&name) {
                headers.push((name.clone(), v.to_string()));
            }
        }
        for (k, v) in &headers {
            if k.eq_ignore_ascii_case("set-cookie") {
                let pair = v.split(';').next().unwrap_or("");
                if let Some((name, value)) = pair.split_once('=') {
                    if value.is_empty() || v.contains("Max-Age=0") {
                        self.cookies.borrow_mut().remove(name);
                    } else {
                        self.cookies.borrow_mut().insert(name.to_string(), value.to_string());
                    }
                }
            }
        }
        let mut bytes = Vec::new();
        use std::io::Read;
        resp.into_reader().take(64 << 20).read_to_end(&mut bytes).unwrap();
        let body = String::from_utf8_lossy(&bytes).into_owned();
        if let Some(t) = extract_csrf(&body) {
            if !body.contains("action=\"/login\"") {
                *self.csrf.borrow_mut() = Some(t);
            }
        }
        Resp { status, body, bytes, headers }
    }

    pub fn get(&self, path: &str) -> Resp {
        let req = self.agent.get(&format!("{}{path}", self.base)).set("Cookie", &self.cookie_header());
        self.finish(req.call())
    }

    pub fn get_json(&self, path: &str) -> Resp {
        let req = self
            .agent
            .get(&format!("{}{path}", self.base))
            .set("Cookie", &self.cookie_header())
            .set("Accept", "application/json");
        self.finish(req.call())
    }

    /// The session's CSRF token, fetched from a page if not yet known.
    pub fn token(&self) -> String {
        if self.csrf.borrow().is_none() {
            let r = self.get("/");
            if let Some(next) = r.location() {
                self.get(next);
            }
        }
        self.csrf.borrow().clone().expect("csrf token")
    }

    pub fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Resp {
        let token = self.token();
        let mut all: Vec<(&str, &str)> = vec![("_csrf", token.as_str())];
        all.extend_from_slice(fields);
        self.post_form_raw(path, &all)
    }

    /// Posts exactly these fields (no CSRF token added).
    pub fn post_form_raw(&self, path: &str, fields: &[(&str, &str)]) -> Resp {
        let req = self.agent.post(&format!("{}{path}", self.base)).set("Cookie", &self.cookie_header());
        self.finish(req.send_form(fields))
    }

    pub fn post_bytes(&self, path: &str, content_type: &str, body: &[u8]) -> Resp {
        self.post_bytes_with(path, content_type, body, &[])
    }

    /// `post_bytes` with extra request headers.
    pub fn post_bytes_with(&self, path: &str, content_type: &str, body: &[u8], headers: &[(&str, &str)]) -> Resp {
        let mut req = self
            .agent
            .post(&format!("{}{path}", self.base))
            .set("Cookie", &self.cookie_header())
            .set("Content-Type", content_type);
        for (k, v) in headers {
            req = req.set(k, v);
        }
        self.finish(req.send_bytes(body))
    }

    /// A multipart upload of one file field plus the CSRF token, as the import form sends it.
    pub fn upload(&self, path: &str, field: &str, filename: &str, data: &[u8]) -> Resp {
        self.upload_with(path, field, filename, data, &[])
    }

    /// `upload` with extra request headers.
    pub fn upload_with(&self, path: &str, field: &str, filename: &str, data: &[u8], headers: &[(&str, &str)]) -> Resp {
        let token = self.token();
        let boundary = "----pingshenTestBoundary7MA4YWxkTrZu0gW";
        let mut body = Vec::new();
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n{token}\r\n").as_bytes(),
        );
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(data);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        self.post_bytes_with(path, &format!("multipart/form-data; boundary={boundary}"), &body, headers)
    }

    pub fn login(&self, user: &str, password: &str) -> Resp {
        let page = self.get("/login");
        let token = extract_csrf(&page.body).expect("login csrf");
        self.post_form_raw("/login", &[("_csrf", &token), ("username", user), ("password", password)])
    }

    pub fn session_cookie(&self) -> Option<String> {
        self.cookies.borrow().get("pingshen_sid").cloned()
    }
}

/// Runs the binary with arguments and returns (exit code, stdout, stderr).
pub fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN).args(args).stdin(Stdio::null()).output().expect("run pingshen");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub fn wait_until(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

/// The example package as JSON, for tests that mutate it.
pub fn example_json() -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(example_dir().join("package.json")).unwrap()).unwrap()
}

/// Writes a package.xlsx with the spec's sheets from a JSON package (tests mutate it first).
pub fn xlsx_from_json(p: &serde_json::Value, drop_column: Option<(&str, &str)>) -> Vec<u8> {
    use rust_xlsxwriter::Workbook;
    let s = |v: &serde_json::Value| match v {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(x) => x.clone(),
        other => other.to_string(),
    };
    let mut wb = Workbook::new();
    let mut sheet = |name: &str, header: Vec<String>, rows: Vec<Vec<String>>| {
        let ws = wb.add_worksheet();
        ws.set_name(name).unwrap();
        let skip = drop_column.filter(|(sh, _)| *sh == name).and_then(|(_, col)| header.iter().position(|h| h == col));
        let mut c = 0;
        for (i, h) in header.iter().enumerate() {
            if Some(i) == skip {
                continue;
            }
            ws.write_string(0, c, h).unwrap();
            for (r, row) in rows.iter().enumerate() {
                if !row[i].is_empty() {
                    ws.write_string(r as u32 + 1, c, &row[i]).unwrap();
                }
            }
            c += 1;
        }
    };
    let se = &p["session"];
    let mode = match se["mode"].as_str().unwrap_or("") {
        "expert_review" => "专家评审",
        "lecture_defense" => "专家评审+讲课答辩",
        "interview_defense" => "专家答辩+面试答辩",
        other => other,
    }
    .to_string();
    let yn = |b: &serde_json::Value| if b.as_bool().unwrap_or(false) { "是" } else { "否" }.to_string();
    sheet(
        "评审会",
        vec!["项目".into(), "值".into()],
        vec![
            vec!["编号".into(), s(&se["id"])],
            vec!["名称".into(), s(&se["name"])],
            vec!["评委会".into(), s(&se["committee"])],
            vec!["评审模式".into(), mode],
            vec!["通过比例".into(), s(&se["committee_pass_ratio"])],
            vec!["出席比例".into(), s(&se["quorum_ratio"])],
            vec![
                "专业组通过规则".into(),
                if se["group_pass_rule"] == "more_than_half" { "过半数".into() } else { s(&se["group_pass_rule"]) },
            ],
            vec![
                "计分规则".into(),
                if se["score_rule"] == "trimmed_mean" { "去掉最高最低分".into() } else { "平均分".into() },
            ],
            vec!["回避者计入出席".into(), yn(&se["recused_count_as_present"])],
            vec!["盲评".into(), yn(&se["blind"])],
        ],
    );
    let groups = p["groups"].as_array().cloned().unwrap_or_default();
    sheet(
        "专业组",
        ["组编号", "组名", "组长编号"].iter().map(|x| x.to_string()).collect(),
        groups.iter().map(|g| vec![s(&g["code"]), s(&g["name"]), s(&g["leader"])]).collect(),
    );
    let c = &p["committee"];
    let members: Vec<String> = c["members"].as_array().unwrap().iter().map(s).collect();
    let experts = p["experts"].as_array().cloned().unwrap_or_default();
    sheet(
        "专家",
        [
            "编号",
            "姓名",
            "性别",
            "手机号码",
            "证件号",
            "工作单位",
            "专业技术职务",
            "专业技术职务等级",
            "推荐专业",
            "专业组编号",
            "评委",
            "主任",
            "上报人",
        ]
        .iter()
        .map(|x| x.to_string())
        .collect(),
        experts
            .iter()
            .map(|e| {
                let code = s(&e["code"]);
                let flag = |b: bool| if b { "是" } else { "否" }.to_string();
                vec![
                    code.clone(),
                    s(&e["name"]),
                    s(&e["gender"]),
                    s(&e["phone"]),
                    s(&e["id_number"]),
                    s(&e["unit"]),
                    s(&e["title"]),
                    s(&e["title_level"]),
                    s(&e["specialty"]),
                    s(&e["group"]),
                    flag(members.contains(&code)),
                    flag(s(&c["chair"]) == code),
                    flag(s(&c["reporter"]) == code),
                ]
            })
            .collect(),
    );
    let applicants = p["applicants"].as_array().cloned().unwrap_or_default();
    let mut detail_keys: Vec<String> = Vec::new();
    for a in &applicants {
        if let Some(d) = a["details"].as_object() {
            for k in d.keys() {
                if !detail_keys.contains(k) {
                    detail_keys.push(k.clone());
                }
            }
        }
    }
    let mut header: Vec<String> = [
        "编号",
        "姓名",
        "推荐单位",
        "申报系列",
        "申报专业",
        "申报职称",
        "评审类型",
        "专业组编号",
        "面试顺序",
        "考场号",
        "讲课题目",
        "章节",
        "教材版本",
        "材料",
    ]
    .iter()
    .map(|x| x.to_string())
    .collect();
    header.extend(detail_keys.iter().cloned());
    sheet(
        "申报人",
        header,
        applicants
            .iter()
            .map(|a| {
                let l = &a["lecture"];
                let mut row = vec![
                    s(&a["code"]),
                    s(&a["name"]),
                    s(&a["unit"]),
                    s(&a["series"]),
                    s(&a["specialty"]),
                    s(&a["title"]),
                    s(&a["review_type"]),
                    s(&a["group"]),
                    s(&l["order"]),
                    s(&l["room"]),
                    s(&l["topic"]),
                    s(&l["chapter"]),
                    s(&l["textbook"]),
                    a["materials"]
                        .as_array()
                        .map(|m| m.iter().map(s).collect::<Vec<_>>().join(";"))
                        .unwrap_or_default(),
                ];
                for k in &detail_keys {
                    row.push(s(&a["details"][k]));
                }
                row
            })
            .collect(),
    );
    let recusals = p["recusals"].as_array().cloned().unwrap_or_default();
    sheet(
        "回避",
        ["专家编号", "申报人编号", "原因"].iter().map(|x| x.to_string()).collect(),
        recusals.iter().map(|r| vec![s(&r["expert"]), s(&r["applicant"]), s(&r["reason"])]).collect(),
    );
    wb.save_to_buffer().unwrap()
}

/// A zip built in memory: (path, bytes) entries.
pub fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    use std::io::Write;
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut w = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default();
        for (name, data) in entries {
            w.start_file(*name, opts).unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap();
    }
    buf.into_inner()
}
