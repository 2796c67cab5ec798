//! The expert's day on a tablet, measured in Chromium as a person sees it (getComputedStyle,
//! getBoundingClientRect — never by reading CSS): no page scrolls sideways at 768 or 1024 px,
//! text is at least 16 px (hints 14), controls are at least 44 px and the vote buttons 48 px,
//! text meets WCAG AA contrast. And a choice made while the server is down is kept on the
//! device, shown as such, and saved exactly once when the server is back.

use crate::browser::{browser, go, login_fast, snap, tap, votable};
use crate::common::*;
use headless_chrome::Tab;
use std::sync::Arc;
use std::time::Duration;

/// What a person would find wrong on the page now, as JSON: horizontal overflow, text under
/// 14 px, text under 16 px that is not a hint (or body text under 16), a control whose border or
/// fill is under 3:1 against what is behind it, touch targets under 44 px, text under WCAG AA
/// contrast, and a
/// table whose rows show more or fewer cells than its header (a heading over the wrong column).
const PROBE: &str = r#"(() => {
  const out = { overflow: document.documentElement.scrollWidth - window.innerWidth, small: [], under16: [], boundary: [], targets: [], contrast: [], columns: [], body: parseFloat(getComputedStyle(document.body).fontSize) };
  // Hints and annotations may be 14 px; everything else on an interactive page 16. A printout
  // (.paper: the minutes, the summary) is an A4 document, where 14 px is right.
  const HINTS = '.hint, .save-state, .tag, small, .crumbs, .menu-title, .paper';
  const cols = row => [...row.cells].filter(c => getComputedStyle(c).display !== 'none').reduce((n, c) => n + c.colSpan, 0);
  for (const t of document.querySelectorAll('table')) {
    const head = t.tHead && t.tHead.rows[0];
    if (!head || getComputedStyle(t.tHead).display === 'none') continue; // a card layout: no columns
    const want = cols(head);
    for (const row of t.tBodies[0] ? t.tBodies[0].rows : []) {
      if (row.cells.length === 1) continue; // a message across the table ("暂无…")
      const got = cols(row);
      if (got !== want && getComputedStyle(row).display !== 'none') { out.columns.push((t.id || t.className) + ' row ' + (row.dataset.code || row.rowIndex) + ': ' + got + ' cells under ' + want + ' headings'); break; }
    }
  }
  // A table that scrolls sideways inside its box is sideways scrolling too.
  for (const w of document.querySelectorAll('.table-wrap')) { const d = w.scrollWidth - w.clientWidth; if (d > 0.5) out.overflow = Math.max(out.overflow, d); }
  const rgb = c => (c.match(/[\d.]+/g) || []).map(Number);
  const lum = c => { const m = rgb(c); const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }; return 0.2126 * f(m[0]) + 0.7152 * f(m[1]) + 0.0722 * f(m[2]); };
  const bgOf = el => { for (let e = el; e; e = e.parentElement) { const s = getComputedStyle(e); if (s.backgroundImage !== 'none') return null; const m = rgb(s.backgroundColor); if (m.length === 3 || (m.length === 4 && m[3] > 0.5)) return s.backgroundColor; } return 'rgb(255, 255, 255)'; };
  const shown = el => { const r = el.getBoundingClientRect(); const s = getComputedStyle(el); return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.opacity !== '0'; };
  const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\s+/).join('.') : '') + ' "' + (el.textContent || el.value || '').trim().slice(0, 16) + '"';
  for (const el of document.querySelectorAll('body *')) {
    if (!shown(el) || el.closest('svg, [hidden]')) continue;
    if (![...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) continue;
    const s = getComputedStyle(el); const fs = parseFloat(s.fontSize);
    if (fs < 13.95) out.small.push(name(el) + ' ' + fs + 'px');
    else if (fs < 15.95 && !el.closest(HINTS)) out.under16.push(name(el) + ' ' + fs + 'px');
    const bg = bgOf(el); if (!bg) continue;
    const a = lum(s.color), b = lum(bg); const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const large = fs >= 24 || (fs >= 18.66 && +s.fontWeight >= 700);
    if (ratio < (large ? 3 : 4.5) - 0.01) out.contrast.push(name(el) + ' ' + ratio.toFixed(2));
  }
  // A control's boundary — its border, or its fill — against what is behind it: WCAG 1.4.11
  // asks 3:1, or the control is a faint outline an older eye cannot find.
  const mix = (c, under) => { const m = rgb(c), u = rgb(under); const a = m.length === 4 ? m[3] : 1; return 'rgb(' + [0, 1, 2].map(i => m[i] * a + u[i] * (1 - a)).join(',') + ')'; };
  const ratioOf = (x, y) => { const a = lum(x), b = lum(y); return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05); };
  for (const el of document.querySelectorAll('a.btn, button, .choice span, input:not([type=hidden]):not([type=radio]):not([type=checkbox]), select, textarea')) {
    if (!shown(el) || el.closest('[hidden]')) continue;
    const behind = bgOf(el.parentElement); if (!behind) continue;
    const s = getComputedStyle(el);
    const border = parseFloat(s.borderTopWidth) > 0 && s.borderTopStyle !== 'none' ? ratioOf(mix(s.borderTopColor, behind), behind) : 1;
    const fill = ratioOf(mix(s.backgroundColor, behind), behind);
    const best = Math.max(border, fill);
    if (best < 2.99) out.boundary.push(name(el) + ' ' + best.toFixed(2));
  }
  for (const el of document.querySelectorAll('a.btn, button, .choice span, input:not([type=hidden]):not([type=radio]):not([type=checkbox]), select, .sidebar a, table.stack td a')) {
    if (!shown(el) || el.closest('[hidden]')) continue;
    const r = el.getBoundingClientRect(); const need = el.matches('.choice span') ? 48 : 44;
    if (r.height < need - 0.5 || r.width < 43.5) out.targets.push(name(el) + ' ' + Math.round(r.width) + 'x' + Math.round(r.height));
  }
  return JSON.stringify(out);
})()"#;

fn probe(tab: &Arc<Tab>) -> serde_json::Value {
    let v = tab.evaluate(PROBE, false).unwrap().value.unwrap();
    serde_json::from_str(v.as_str().unwrap()).unwrap()
}

/// What the probe finds wrong on each page, for one signed-in person.
fn measure_pages(
    browser: &headless_chrome::Browser,
    s: &Server,
    user: &str,
    pages: &[&str],
    size: (u32, u32),
) -> Vec<String> {
    let (w, h) = size;
    let mut problems = Vec::new();
    let tab = browser.new_context().unwrap().new_tab().unwrap();
    login_fast(&tab, &s.base, user, if user == "admin" { "admin-demo" } else { "pingshen" });
    for page in pages {
        go(&tab, &s.base, page);
        snap(&tab, &format!("tablet{w}-{user}{}", page.replace('/', "-")));
        let p = probe(&tab);
        let mut say = |what: &str, v: &serde_json::Value| problems.push(format!("{w}x{h} {user} {page}: {what} {v}"));
        if p["overflow"].as_f64().unwrap() > 0.5 {
            say("scrolls sideways by", &p["overflow"]);
        }
        if p["body"].as_f64().unwrap() < 16.0 {
            say("body text", &p["body"]);
        }
        for k in ["small", "under16", "boundary", "targets", "contrast", "columns"] {
            if !p[k].as_array().unwrap().is_empty() {
                say(k, &p[k]);
            }
        }
    }
    problems
}

/// Every page of the day in each tablet orientation, for every role of the day, in the lecture
/// and the interview modes, drafting and with the switch open: measured.
#[test]
fn every_page_of_the_day_fits_a_tablet_and_is_large_enough() {
    let s = Server::demo("lecture_defense");
    let interview = Server::demo("interview_defense");
    let mut problems = Vec::new();
    for size in [(768, 1024), (1024, 768)] {
        let Some(browser) = browser(size.0, size.1) else { return };
        for (user, pages) in [
            ("huangli", &["/", "/review/draft", "/lecture", "/applicants/A0017"][..]),
            (
                "chenjing",
                &["/review/assign", "/review/assign/A0015", "/review/ops", "/review/deliberate", "/review/draft"][..],
            ),
            ("wangdong", &["/committee/draft", "/committee/ops", "/minutes", "/summary"][..]),
            ("sunli", &["/committee/report"][..]),
        ] {
            problems.extend(measure_pages(&browser, &s, user, pages, size));
        }
        problems.extend(measure_pages(
            &browser,
            &interview,
            "huangli",
            &["/interview/materials", "/interview/defense"],
            size,
        ));
    }
    // The switch open: the voter's list and the confirmation page.
    let leader = s.login("chenjing", "pingshen");
    assert_eq!(leader.post_form("/review/ops/open", &[]).status, 303);
    for size in [(768, 1024), (1024, 768)] {
        let Some(browser) = browser(size.0, size.1) else { return };
        problems.extend(measure_pages(&browser, &s, "huangli", &["/review/draft", "/review/submit"], size));
    }
    // The network fails (issue 28): the open round is voided and held on paper. The voter's
    // notice, the leader's page, the clerk's list, entry form and printouts, the emergency pack.
    let r = leader.post_form("/review/ops/paper", &[("reason_kind", "网络故障")]);
    assert_eq!(r.status, 303, "{}", r.text());
    let paper: i64 = s.db().query_row("SELECT id FROM votes WHERE medium = 'paper'", [], |r| r.get(0)).unwrap();
    let clerk_pages = [
        "/paper".to_string(),
        format!("/paper/{paper}"),
        format!("/paper/{paper}/ballot"),
        format!("/paper/{paper}/tally"),
        "/admin/paper-pack".to_string(),
    ];
    let clerk_pages: Vec<&str> = clerk_pages.iter().map(String::as_str).collect();
    for size in [(768, 1024), (1024, 768)] {
        let Some(browser) = browser(size.0, size.1) else { return };
        problems.extend(measure_pages(&browser, &s, "huangli", &["/review/draft"], size));
        problems.extend(measure_pages(&browser, &s, "chenjing", &["/review/ops"], size));
        problems.extend(measure_pages(&browser, &s, "admin", &clerk_pages, size));
    }
    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));
}

fn row_state(tab: &Arc<Tab>, code: &str) -> String {
    tab.evaluate(&format!("document.querySelector(\"tr[data-code='{code}'] .save-state\").dataset.state"), false)
        .unwrap()
        .value
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default()
}

/// The Wi-Fi drops (here: the server stops) while 黄丽 changes a choice and types an opinion.
/// The page says so and keeps both on the tablet; the server comes back on the same address;
/// both reach it by themselves, exactly once, and nothing had to be typed again.
#[test]
fn a_choice_made_while_the_server_is_down_is_kept_and_saved_once() {
    let Some(browser) = browser(768, 1024) else { return };
    let mut s = Server::demo("expert_review");
    let tab = browser.new_context().unwrap().new_tab().unwrap();
    login_fast(&tab, &s.base, "huangli", "pingshen");
    go(&tab, &s.base, "/review/draft");
    let codes = votable(&tab);
    let (first, second) = (&codes[0], &codes[1]);
    tap(&tab, &format!("tr[data-code='{first}'] .choice-agree span"));
    assert!(wait_until(Duration::from_secs(10), || row_state(&tab, first) == "saved"), "saved while online");
    assert_eq!(tab.find_element("#n-chosen").unwrap().get_inner_text().unwrap(), "1");

    s.stop();
    tap(&tab, &format!("tr[data-code='{second}'] .choice-oppose span"));
    tap(&tab, &format!("input[name=opinion_{second}]"));
    tab.type_str("材料需补充").unwrap();
    assert!(
        wait_until(Duration::from_secs(10), || row_state(&tab, second) == "unsaved"),
        "the row says it is not saved"
    );
    let banner = tab.find_element("#net-banner").unwrap().get_inner_text().unwrap();
    assert!(banner.contains("网络已断开") && banner.contains("保存在本机"), "{banner}");
    assert_eq!(tab.find_element("#n-chosen").unwrap().get_inner_text().unwrap(), "2", "the counter counts it");
    snap(&tab, "offline-kept");

    s.start_again_same_port();
    assert!(
        wait_until(Duration::from_secs(20), || row_state(&tab, second) == "saved"),
        "sent by itself once the server is back"
    );
    let db = s.db();
    let (n, choice, opinion): (i64, String, String) = db
        .query_row(
            "SELECT count(*), max(d.choice), max(d.opinion) FROM drafts d JOIN experts e ON e.code = d.voter_code
             WHERE e.name = '黄丽' AND d.applicant_code = ?1",
            [second],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!((n, choice.as_str(), opinion.as_str()), (1, "oppose", "材料需补充"));
    let kept = tab.evaluate("Object.keys(localStorage).filter(k => k.startsWith('pingshen:')).length", false).unwrap();
    assert_eq!(kept.value, Some(serde_json::json!(0)), "nothing stays on the tablet once the server has it");
    assert!(tab
        .find_element("#net-banner")
        .unwrap()
        .get_attributes()
        .unwrap()
        .unwrap_or_default()
        .contains(&"hidden".to_string()));
}

/// The room display (大屏) with 18 released results on a 1080p projector: nothing below the
/// fold, the results page through by themselves (第 1/2 页 → 第 2/2 页), large type.
#[test]
fn the_room_display_fits_a_1080p_projector() {
    let Some(browser) = browser(1920, 1080) else { return };
    let apps: Vec<(String, String)> = (1..=18).map(|i| (format!("A{i:02}"), format!("某小学{i}"))).collect();
    let refs: Vec<(&str, &str)> = apps.iter().map(|(a, u)| (a.as_str(), u.as_str())).collect();
    let v = Venue::new(&committee_package(5, &refs, false));
    let members: Vec<Client> = (1..=5).map(|i| v.login(&format!("E{i:02}"))).collect();
    let votes: Vec<(&str, &str)> = refs.iter().map(|(a, _)| (*a, "agree")).collect();
    for m in &members {
        assert_eq!(committee_draft(m, &votes).status, 303);
    }
    assert_eq!(members[0].post_form("/committee/ops/open", &[]).status, 303);
    for m in &members {
        assert_eq!(committee_submit(m).status, 303);
    }
    assert_eq!(members[0].post_form("/committee/ops/release", &[("released", "yes")]).status, 303);
    let page = v.admin.get("/admin/display");
    let link = unescape(page.body.split("id=\"display-link\">").nth(1).unwrap().split('<').next().unwrap());
    let path = &link[link.find("/display").unwrap()..];
    let tab = browser.new_tab().unwrap();
    go(&tab, &v.s.base, path);
    tab.wait_for_element("#results").unwrap();
    let measure = || -> serde_json::Value {
        let js = "JSON.stringify({ height: document.documentElement.scrollHeight, view: window.innerHeight,
            shown: [...document.querySelectorAll('#results tbody tr')].filter(r => r.getBoundingClientRect().height > 0).map(r => r.cells[0].textContent),
            label: (document.querySelector('#results + .page-label') || {}).textContent,
            font: parseFloat(getComputedStyle(document.querySelector('#results td')).fontSize) })";
        serde_json::from_str(tab.evaluate(js, false).unwrap().value.unwrap().as_str().unwrap()).unwrap()
    };
    let first = measure();
    snap(&tab, "display-1080p");
    assert!(first["height"].as_f64() <= first["view"].as_f64(), "nothing below the fold: {first}");
    // 3.6 % of the screen's height: 39 px on a 1080p projector.
    let (font, view) = (first["font"].as_f64().unwrap(), first["view"].as_f64().unwrap());
    assert!(font >= 0.035 * view, "readable from the back of the room: {first}");
    let shown = first["shown"].as_array().unwrap().len();
    assert!(shown > 0 && shown < 18, "one page of the 18 results: {first}");
    assert!(first["label"].as_str().unwrap().starts_with("第 1/"), "{first}");
    tab.evaluate("document.getElementById('results').nextPage()", false).unwrap();
    let second = measure();
    assert!(second["label"].as_str().unwrap().starts_with("第 2/"), "{second}");
    assert_ne!(first["shown"], second["shown"], "the next page shows other results");
}

fn state_text(tab: &Arc<Tab>, code: &str) -> String {
    tab.evaluate(&format!("document.querySelector(\"tr[data-code='{code}'] .save-state\").textContent"), false)
        .unwrap()
        .value
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default()
}

/// The row's choice on screen ("" for none) and its opinion field.
fn row_value(tab: &Arc<Tab>, code: &str) -> (String, String) {
    let js = format!(
        "JSON.stringify([(document.querySelector(\"tr[data-code='{code}'] input[type=radio]:checked\") || {{ value: '' }}).value,
                         (document.querySelector(\"tr[data-code='{code}'] input[name^=opinion_]\") || {{ value: '' }}).value])"
    );
    let v = tab.evaluate(&js, false).unwrap().value.unwrap();
    let pair: (String, String) = serde_json::from_str(v.as_str().unwrap()).unwrap();
    pair
}

fn held(s: &Server, name: &str, code: &str) -> Option<(Option<String>, String)> {
    s.db()
        .query_row(
            "SELECT d.choice, d.opinion FROM drafts d JOIN experts e ON e.code = d.voter_code WHERE e.name = ?1 AND d.applicant_code = ?2",
            [name, code],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .ok()
}

fn reload(tab: &Arc<Tab>, s: &Server) {
    go(tab, &s.base, "/review/draft");
    tab.wait_for_element("#drafts").unwrap();
}

/// DOMAIN decision 6, the quiet way it broke: 王健华 types an opinion before choosing. It is
/// saved (and says so), survives a reload, then a choice, then the choice cleared — reloading
/// after each, at 768×1024.
#[test]
fn an_opinion_typed_before_a_choice_is_kept_through_choice_and_clearing() {
    let Some(browser) = browser(768, 1024) else { return };
    let s = Server::demo("expert_review");
    let tab = browser.new_context().unwrap().new_tab().unwrap();
    login_fast(&tab, &s.base, "wangjianhua", "pingshen");
    reload(&tab, &s);
    let opinion = "此人教学成果突出，建议通过";
    tap(&tab, "input[name=opinion_A0001]");
    tab.type_str(opinion).unwrap();
    tab.evaluate("document.activeElement.blur()", false).unwrap();
    assert!(wait_until(Duration::from_secs(10), || row_state(&tab, "A0001") == "saved"), "the opinion is saved");
    assert!(state_text(&tab, "A0001").contains("尚未选择"), "{}", state_text(&tab, "A0001"));
    assert_eq!(held(&s, "王健华", "A0001"), Some((None, opinion.to_string())));
    reload(&tab, &s);
    assert_eq!(row_value(&tab, "A0001"), (String::new(), opinion.to_string()), "kept across a reload");
    assert_eq!(tab.find_element("#n-chosen").unwrap().get_inner_text().unwrap(), "0", "not counted as chosen");
    snap(&tab, "opinion-first");

    tap(&tab, "tr[data-code='A0001'] .choice-agree span");
    assert!(wait_until(Duration::from_secs(10), || row_state(&tab, "A0001") == "saved"
        && state_text(&tab, "A0001") == "已保存"));
    reload(&tab, &s);
    assert_eq!(row_value(&tab, "A0001"), ("agree".to_string(), opinion.to_string()));
    assert_eq!(tab.find_element("#n-chosen").unwrap().get_inner_text().unwrap(), "1");

    tap(&tab, "tr[data-code='A0001'] .choice-clear");
    assert!(wait_until(Duration::from_secs(10), || row_state(&tab, "A0001") == "saved"));
    assert_eq!(tab.find_element("#n-chosen").unwrap().get_inner_text().unwrap(), "0", "cleared: counted out");
    reload(&tab, &s);
    assert_eq!(row_value(&tab, "A0001"), (String::new(), opinion.to_string()), "cleared, the opinion stays");
    assert_eq!(held(&s, "王健华", "A0001"), Some((None, opinion.to_string())));
    let hidden = tab.evaluate("document.querySelector(\"tr[data-code='A0001'] .choice-clear\").hidden", false).unwrap();
    assert_eq!(hidden.value, Some(serde_json::json!(true)), "nothing to clear now");
}

/// One expert, two devices (DOMAIN decision 6): the tablet loses Wi-Fi and keeps 反对; the
/// phone saves 同意; when the tablet is back, its older 反对 does not replace the newer 同意: the
/// row says what happened and offers both. Choosing 反对 there saves it, and the phone's open
/// page follows by its poll instead of showing a stale 已保存.
#[test]
fn a_choice_kept_offline_never_replaces_a_newer_one_from_another_device() {
    let Some(browser) = browser(768, 1024) else { return };
    let s = Server::demo("expert_review");
    let tablet = browser.new_context().unwrap().new_tab().unwrap();
    let phone = browser.new_context().unwrap().new_tab().unwrap();
    for tab in [&tablet, &phone] {
        login_fast(tab, &s.base, "wangjianhua", "pingshen");
        reload(tab, &s);
    }
    // The tablet's Wi-Fi drops: every request fails as a network error.
    tablet
        .evaluate(
            "window.__fetch = window.fetch; window.fetch = () => Promise.reject(new TypeError('offline'));",
            false,
        )
        .unwrap();
    tap(&tablet, "tr[data-code='A0001'] .choice-oppose span");
    assert!(wait_until(Duration::from_secs(10), || row_state(&tablet, "A0001") == "unsaved"), "kept on the tablet");

    tap(&phone, "tr[data-code='A0001'] .choice-agree span");
    assert!(wait_until(Duration::from_secs(10), || row_state(&phone, "A0001") == "saved"));
    assert_eq!(held(&s, "王健华", "A0001").unwrap().0.as_deref(), Some("agree"));

    // The Wi-Fi returns.
    tablet.evaluate("window.fetch = window.__fetch; window.dispatchEvent(new Event('online'));", false).unwrap();
    assert!(
        wait_until(Duration::from_secs(15), || row_state(&tablet, "A0001") == "conflict"),
        "the tablet says what happened: {}",
        state_text(&tablet, "A0001")
    );
    let says = state_text(&tablet, "A0001");
    assert!(says.contains("此项已在另一设备上改为「同意」"), "{says}");
    assert_eq!(held(&s, "王健华", "A0001").unwrap().0.as_deref(), Some("agree"), "the newer choice stands");
    assert_eq!(row_value(&tablet, "A0001").0, "agree", "the tablet shows what the server holds");
    let offers = tablet.find_element("tr[data-code='A0001'] .conflict").unwrap().get_inner_text().unwrap();
    assert!(offers.contains("保留「同意」") && offers.contains("改为「反对」"), "{offers}");
    snap(&tablet, "two-devices-conflict");
    assert_eq!(row_state(&phone, "A0001"), "saved");

    // The tablet's owner decides for 反对 after all: saved, and the phone follows.
    tap(&tablet, "tr[data-code='A0001'] .use-mine");
    assert!(wait_until(Duration::from_secs(10), || row_state(&tablet, "A0001") == "saved"));
    assert_eq!(held(&s, "王健华", "A0001").unwrap().0.as_deref(), Some("oppose"));
    assert!(
        wait_until(Duration::from_secs(10), || row_value(&phone, "A0001").0 == "oppose"),
        "the phone's open page learns of it from its poll"
    );
    assert!(state_text(&phone, "A0001").contains("另一设备"), "{}", state_text(&phone, "A0001"));
}
