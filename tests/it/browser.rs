//! Browser tests: Debian's headless Chromium driven from Rust (headless_chrome, no download).
//! Locally without Chromium they skip with a message; under CI=true a missing browser fails.

use crate::common::*;
use headless_chrome::protocol::cdp::Page::CaptureScreenshotFormatOption;
use headless_chrome::{Browser, LaunchOptions, Tab};
use std::ffi::OsStr;
use std::path::PathBuf;
use std::sync::Arc;

const CHROMIUM: &str = "/usr/bin/chromium";

pub fn browser(width: u32, height: u32) -> Option<Browser> {
    if !std::path::Path::new(CHROMIUM).exists() {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("Chromium is required under CI ({CHROMIUM} missing): .ci/run must install it");
        }
        eprintln!("SKIP browser test: {CHROMIUM} not installed (apt-get install chromium)");
        return None;
    }
    let args: Vec<&OsStr> = [
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-dev-shm-usage",
        "--lang=zh-CN",
    ]
    .iter()
    .map(OsStr::new)
    .collect();
    let opts = LaunchOptions::default_builder()
        .path(Some(PathBuf::from(CHROMIUM)))
        .headless(true)
        .sandbox(false)
        .window_size(Some((width, height)))
        .idle_browser_timeout(std::time::Duration::from_secs(120))
        .args(args)
        .build()
        .expect("launch options");
    Some(Browser::new(opts).expect("start chromium"))
}

pub fn login(tab: &Arc<Tab>, base: &str, user: &str, password: &str) {
    tab.navigate_to(&format!("{base}/login")).unwrap().wait_until_navigated().unwrap();
    tab.wait_for_element("#username").unwrap().click().unwrap();
    tab.type_str(user).unwrap();
    tab.wait_for_element("#password").unwrap().click().unwrap();
    tab.type_str(password).unwrap();
    tab.wait_for_element("#login-submit").unwrap().click().unwrap();
    // The next page is either the layout (signed in) or the login form with an error.
    tab.wait_for_element("#user-name, #login-error").unwrap();
}

pub fn text(tab: &Arc<Tab>, selector: &str) -> String {
    tab.wait_for_element(selector).unwrap().get_inner_text().unwrap()
}

/// Saves a screenshot when PINGSHEN_SCREENSHOTS names a directory (for looking at pages).
pub fn snap(tab: &Arc<Tab>, name: &str) {
    if let Ok(dir) = std::env::var("PINGSHEN_SCREENSHOTS") {
        std::fs::create_dir_all(&dir).unwrap();
        let png = tab.capture_screenshot(CaptureScreenshotFormatOption::Png, None, None, true).unwrap();
        std::fs::write(PathBuf::from(dir).join(format!("{name}.png")), png).unwrap();
    }
}

#[test]
fn demo_leader_logs_in_and_sees_the_desk_with_the_right_menu() {
    let Some(browser) = browser(1366, 900) else {
        return;
    };
    let s = Server::demo("expert_review");
    let tab = browser.new_tab().unwrap();
    // A wrong password first: the page says so.
    login(&tab, &s.base, "sunyi", "wrong");
    let err = text(&tab, "#login-error");
    assert!(err.contains("用户名或密码错误"), "{err}");
    login(&tab, &s.base, "sunyi", "pingshen");
    assert!(tab.get_url().ends_with("/desk"), "{}", tab.get_url());
    assert_eq!(text(&tab, "#user-name"), "孙怡");
    let menu = text(&tab, "#menu");
    for item in
        ["我的桌面", "专家评审", "分配主审专家", "专业组拟投票", "小组数据操作", "专业组评议", "评委会", "大评委拟投票"]
    {
        assert!(menu.contains(item), "menu lacks {item}: {menu}");
    }
    for item in ["评委会数据操作", "大评委上报评审结果", "会务管理", "讲课答辩"] {
        assert!(!menu.contains(item), "menu must not show {item}: {menu}");
    }
    assert!(text(&tab, "#my-group").contains("小学语文组"));
    snap(&tab, "desk-leader");
    // Logging out returns to the login page, and the desk is closed again.
    tab.wait_for_element("#logout").unwrap().click().unwrap();
    tab.wait_for_element("#login-submit").unwrap();
    assert!(tab.get_url().contains("/login"));
    tab.navigate_to(&format!("{}/desk", s.base)).unwrap().wait_until_navigated().unwrap();
    assert!(tab.get_url().contains("/login"));
}

#[test]
fn package_fields_full_of_html_render_inert() {
    let Some(browser) = browser(1366, 900) else {
        return;
    };
    let s = Server::start(&[]);
    let admin = s.admin();
    let mut p = example_json();
    let evil = "<img src=x onerror=\"document.title='pwned'\"><script>document.title='pwned'</script>\"'&";
    p["applicants"][0]["name"] = serde_json::json!(evil);
    p["applicants"][0]["details"]["学历"] = serde_json::json!(evil);
    p["session"]["name"] = serde_json::json!(evil);
    assert_eq!(admin.upload("/admin/import", "package", "package.json", &serde_json::to_vec(&p).unwrap()).status, 200);
    let tab = browser.new_tab().unwrap();
    login(&tab, &s.base, "admin", &s.admin_password());
    for page in ["/admin", "/admin/applicants", "/applicants/A0001"] {
        tab.navigate_to(&format!("{}{page}", s.base)).unwrap().wait_until_navigated().unwrap();
        let title = tab.get_title().unwrap();
        assert_ne!(title, "pwned", "{page} ran injected script");
        let imgs = tab.evaluate("document.querySelectorAll('img[src=x]').length", false).unwrap();
        assert_eq!(imgs.value.unwrap().as_i64(), Some(0), "{page} created an injected element");
    }
    let body = tab.wait_for_element("body").unwrap().get_inner_text().unwrap();
    assert!(body.contains("<script>"), "the text is shown as text");
}

/// Not a check: renders the main pages at laptop and tablet width (and the slips as PDF) into
/// PINGSHEN_SCREENSHOTS for a person to look at. `cargo test --test it screenshots -- --ignored`
#[test]
#[ignore]
fn screenshots() {
    let dir = std::env::var("PINGSHEN_SCREENSHOTS").expect("set PINGSHEN_SCREENSHOTS=dir");
    let s = Server::demo("lecture_defense");
    for (label, w, h) in [("laptop", 1366, 900), ("tablet", 820, 1180)] {
        let Some(browser) = browser(w, h) else { return };
        let tab = browser.new_tab().unwrap();
        tab.navigate_to(&format!("{}/login", s.base)).unwrap().wait_until_navigated().unwrap();
        snap(&tab, &format!("{label}-login"));
        login(&tab, &s.base, "admin", "admin-demo");
        for page in [
            "/admin",
            "/admin/import",
            "/admin/groups",
            "/admin/experts",
            "/admin/applicants",
            "/admin/accounts",
            "/admin/attendance",
            "/admin/audit",
            "/applicants/A0001",
        ] {
            tab.navigate_to(&format!("{}{page}", s.base)).unwrap().wait_until_navigated().unwrap();
            snap(&tab, &format!("{label}-{}", page.trim_matches('/').replace('/', "-")));
        }
        let tab = browser.new_tab().unwrap();
        login(&tab, &s.base, "sunyi", "pingshen");
        snap(&tab, &format!("{label}-desk-sunyi"));
        tab.navigate_to(&format!("{}/review/assign", s.base)).unwrap().wait_until_navigated().unwrap();
        snap(&tab, &format!("{label}-review-assign"));
    }
    // The slips page printed to PDF, as the admin would print it.
    let Some(browser) = browser(1366, 900) else {
        return;
    };
    let tab = browser.new_tab().unwrap();
    login(&tab, &s.base, "admin", "admin-demo");
    tab.navigate_to(&format!("{}/admin/accounts", s.base)).unwrap().wait_until_navigated().unwrap();
    tab.evaluate("document.querySelector('input[name=confirm]').checked = true; window.confirm = () => true;", false)
        .unwrap();
    tab.wait_for_element("#issue-form button").unwrap().click().unwrap();
    tab.wait_until_navigated().unwrap();
    snap(&tab, "slips");
    let pdf = tab
        .print_to_pdf(Some(headless_chrome::types::PrintToPdfOptions {
            prefer_css_page_size: Some(true),
            print_background: Some(true),
            ..Default::default()
        }))
        .unwrap();
    std::fs::write(PathBuf::from(&dir).join("slips.pdf"), pdf).unwrap();
}
