// pingshen — small progressive enhancements; every page works without them.
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  document.addEventListener("click", function (e) {
    var t = e.target;
    if (!t || !t.getAttribute) return;
    if (t.hasAttribute("data-print")) window.print();
    var msg = t.getAttribute("data-confirm-click");
    if (msg && !window.confirm(msg)) { e.preventDefault(); }
  });
  document.addEventListener("submit", function (e) {
    var form = e.target;
    var msg = form.getAttribute && form.getAttribute("data-confirm");
    if (msg) {
      // The switch dialog repeats the names the page warns about (who has not drafted, scored,
      // signed in, or has no device), as they are now.
      var extra = form.getAttribute("data-confirm-extra");
      var box = extra && $(extra);
      if (box) {
        var lines = [];
        box.querySelectorAll("p").forEach(function (p) { if (!p.hidden) lines.push(p.textContent.trim()); });
        if (lines.length) msg = lines.join("\n") + "\n\n" + msg;
      }
      if (!window.confirm(msg)) { e.preventDefault(); return; }
    }
    // One submission per click: a double click must not send the form twice.
    if (form.dataset.sent) { e.preventDefault(); return; }
    form.dataset.sent = "1";
    setTimeout(function () { delete form.dataset.sent; }, 4000);
  });

  // ---- Choices kept on this device until the server has them (DOMAIN decision 6) ----
  // Key: person, round and session epoch, so nothing crosses into another round or epoch.
  var PREFIX = "pingshen:";
  var store = {
    get: function (k) { try { return JSON.parse(window.localStorage.getItem(k) || "{}"); } catch (x) { return {}; } },
    set: function (k, v) {
      try {
        if (Object.keys(v).length) window.localStorage.setItem(k, JSON.stringify(v));
        else window.localStorage.removeItem(k);
      } catch (x) { /* storage full or disabled: the page still saves directly */ }
    },
    // Removes every kept choice of this person except under `keep` (other rounds, old epochs).
    prune: function (person, keep) {
      try {
        for (var i = window.localStorage.length - 1; i >= 0; i--) {
          var k = window.localStorage.key(i);
          if (k && k.indexOf(PREFIX + person + ":") === 0 && k !== keep) window.localStorage.removeItem(k);
        }
      } catch (x) { /* nothing kept */ }
    },
    clearAll: function () {
      try {
        for (var i = window.localStorage.length - 1; i >= 0; i--) {
          var k = window.localStorage.key(i);
          if (k && k.indexOf(PREFIX) === 0) window.localStorage.removeItem(k);
        }
      } catch (x) { /* nothing kept */ }
    }
  };
  // Signing out leaves nothing of anyone's choices on a shared tablet.
  document.querySelectorAll("form[action='/logout']").forEach(function (f) {
    f.addEventListener("submit", store.clearAll);
  });

  var form = $("draft-form");
  var autosave = form && form.getAttribute("data-autosave") === "1" && window.fetch;
  var netBanner = $("net-banner");
  var showBanner = function (text, kind) {
    if (!netBanner) return;
    netBanner.hidden = !text;
    netBanner.textContent = text || "";
    netBanner.className = "alert " + (kind || "alert-warn");
  };
  if (form && !autosave && form.dataset.person) {
    // Submitted, closed or not a voter: nothing may stay kept for this round.
    store.set(PREFIX + form.dataset.person + ":" + form.dataset.vote + ":" + form.dataset.epoch, {});
  }
  var kept = {};
  if (autosave) {
    var key = PREFIX + form.dataset.person + ":" + form.dataset.vote + ":" + form.dataset.epoch;
    store.prune(form.dataset.person, key);
    kept = store.get(key);
    var inflight = false, retry = null, failedHard = false;
    var submitLink = $("go-submit");
    var rowOf = function (code) { return form.querySelector("tr[data-code='" + code + "']"); };
    var setState = function (code, state, text) {
      var row = rowOf(code);
      var el = row && row.querySelector(".save-state");
      if (!el) return;
      el.setAttribute("data-state", state);
      el.textContent = text;
    };
    var chosen = function (row) { return !!row.querySelector("input[type=radio]:checked"); };
    var counter = $("vote-counter");
    var total = counter ? parseInt(counter.getAttribute("data-total"), 10) : 0;
    var nChosen = $("n-chosen") ? parseInt($("n-chosen").textContent, 10) : 0;
    var updateCounter = function () {
      if (!counter) return;
      $("n-chosen").textContent = nChosen;
      $("n-left").textContent = Math.max(0, total - nChosen);
    };
    var updateSubmit = function () {
      if (!submitLink) return;
      var waiting = Object.keys(kept).length > 0 || inflight;
      submitLink.setAttribute("aria-disabled", waiting ? "true" : "false");
      submitLink.title = waiting ? "还有选择未保存到服务器，保存后才能提交" : "";
    };
    var valueOf = function (row) {
      var r = row.querySelector("input[type=radio]:checked");
      var op = row.querySelector("input[name^='opinion_']");
      return { choice: r ? r.value : "", opinion: op ? op.value : null };
    };
    var keep = function (code) {
      var row = rowOf(code);
      if (!row) return;
      kept[code] = valueOf(row);
      store.set(key, kept);
      setState(code, "saving", "正在保存…");
      updateSubmit();
    };
    var flush = function () {
      var codes = Object.keys(kept);
      if (inflight || !codes.length || failedHard) return;
      inflight = true;
      updateSubmit();
      var body = new URLSearchParams();
      body.append("_csrf", form.querySelector("input[name=_csrf]").value);
      body.append("vote", form.dataset.vote);
      body.append("epoch", form.dataset.epoch);
      var sent = {};
      codes.forEach(function (c) {
        var v = kept[c];
        sent[c] = JSON.stringify(v);
        body.append("choice_" + c, v.choice);
        if (v.opinion !== null) body.append("opinion_" + c, v.opinion);
      });
      fetch(form.action, {
        method: "POST", body: body, credentials: "same-origin", cache: "no-store",
        headers: { "Accept": "application/json" }
      }).then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (d) { return { status: r.status, d: d }; });
      }).then(function (res) {
        inflight = false;
        if (res.status === 200) {
          var announce = form.dataset.announce === "1";
          codes.forEach(function (c) {
            // A choice changed again while this save was on its way stays kept.
            if (kept[c] && JSON.stringify(kept[c]) === sent[c]) {
              delete kept[c];
              setState(c, "saved", "已保存");
            }
          });
          store.set(key, kept);
          if (announce && !Object.keys(kept).length) {
            delete form.dataset.announce;
            showBanner("拟投票已保存。", "alert-ok");
          } else showBanner("");
        } else if (res.status === 401) {
          showBanner("登录已过期：您的选择已保存在本机。请重新登录，登录后会自动上传。");
        } else {
          // Refused for good (the round closed, it was submitted, the epoch changed): say
          // so on every row it concerns, never drop it silently.
          failedHard = true;
          var msg = (res.d && res.d.error) || "未能保存。";
          codes.forEach(function (c) { setState(c, "failed", msg); });
          showBanner(msg + " 请刷新页面。", "alert-error");
        }
        updateSubmit();
        if (Object.keys(kept).length) schedule();
      }).catch(function () {
        inflight = false;
        Object.keys(kept).forEach(function (c) { setState(c, "unsaved", "未保存（已存本机）"); });
        showBanner("网络已断开 — 您的选择已保存在本机，恢复后自动上传。");
        updateSubmit();
        schedule();
      });
    };
    var schedule = function () {
      if (retry) return;
      retry = setTimeout(function () { retry = null; flush(); }, 3000);
    };
    // A row counts once it has a choice (a choice can be changed, never taken back).
    var count = function (row) {
      if (!row.dataset.had && chosen(row)) { row.dataset.had = "1"; nChosen++; updateCounter(); }
    };
    form.querySelectorAll("tr[data-code]").forEach(function (row) { if (chosen(row)) row.dataset.had = "1"; });
    // Choices kept from before (a reload while offline): put them back on screen and send them.
    Object.keys(kept).forEach(function (c) {
      var row = rowOf(c);
      if (!row) return;
      var v = kept[c];
      row.querySelectorAll("input[type=radio]").forEach(function (r) { r.checked = r.value === v.choice; });
      var op = row.querySelector("input[name^='opinion_']");
      if (op && v.opinion !== null) op.value = v.opinion;
      count(row);
      setState(c, "unsaved", "未保存（已存本机）");
    });
    updateCounter();
    updateSubmit();
    flush();
    form.addEventListener("change", function (e) {
      var t = e.target;
      var row = t.closest && t.closest("tr[data-code]");
      if (!row) return;
      count(row);
      keep(row.getAttribute("data-code"));
      flush();
    });
    var typing = null;
    form.addEventListener("input", function (e) {
      var row = e.target.closest && e.target.closest("tr[data-code]");
      if (!row || e.target.type === "radio") return;
      keep(row.getAttribute("data-code"));
      clearTimeout(typing);
      typing = setTimeout(flush, 800);
    });
    // The save button sends everything on the page (and says so); no page reload.
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      form.querySelectorAll("tr[data-code][data-votable]").forEach(function (row) {
        if (chosen(row) || row.querySelector("input[name^='opinion_']")) keep(row.getAttribute("data-code"));
      });
      // Said once the server has everything (a row still kept says 未保存 instead).
      form.dataset.announce = "1";
      if (Object.keys(kept).length) flush(); else showBanner("拟投票已保存。", "alert-ok");
    });
    if (submitLink) {
      submitLink.addEventListener("click", function (e) {
        if (submitLink.getAttribute("aria-disabled") === "true") {
          e.preventDefault();
          showBanner("还有选择未保存到服务器，保存成功后才能提交。");
          flush();
        }
      });
    }
    window.addEventListener("online", flush);
    window.addEventListener("beforeunload", function (e) {
      if (Object.keys(kept).length && !failedHard) { e.preventDefault(); e.returnValue = ""; }
    });
  }
  // The confirmation's submission: once it is sent, nothing of this round stays kept.
  var submitForm = $("submit-form");
  if (submitForm && form === null) {
    submitForm.addEventListener("submit", function () {
      try {
        for (var i = window.localStorage.length - 1; i >= 0; i--) {
          var k = window.localStorage.key(i);
          if (k && k.indexOf(PREFIX) === 0 && k.split(":")[2] === submitForm.getAttribute("data-clear-kept")) {
            window.localStorage.removeItem(k);
          }
        }
      } catch (x) { /* nothing kept */ }
    });
  }

  // ---- Live state: counters on the leader's/chair's pages, the round's state on a voter's ----
  var live = $("live");
  if (live && window.fetch) {
    var url = live.getAttribute("data-status-url");
    var shown = live.getAttribute("data-status");
    var isVoter = live.getAttribute("data-voter") === "1";
    var etag = null, failures = 0, changed = false;
    var set = function (id, text) { var el = $(id); if (el) el.textContent = text; };
    var stale = $("live-stale");
    var stateNotice = function (status) {
      // Never reload over a page a person is working on: say what changed and offer the action.
      var text = status === "open" ? "投票已开启：请刷新页面，选完后提交投票。" :
        status === "closed" ? "本轮投票已结束。请刷新页面查看。" : "投票状态已变化，请刷新页面。";
      var box = $("state-banner");
      if (!box) {
        box = document.createElement("div");
        box.id = "state-banner";
        box.className = "alert alert-info";
        var h1 = document.querySelector(".content .panel h1");
        if (h1) h1.parentNode.insertBefore(box, h1.nextSibling);
        else document.body.insertBefore(box, document.body.firstChild);
      }
      box.textContent = text + " ";
      var b = document.createElement("button");
      b.type = "button";
      b.className = "btn btn-primary";
      b.textContent = "刷新页面";
      b.addEventListener("click", function () { window.location.reload(); });
      box.appendChild(b);
    };
    var poll = function () {
      var headers = { "Accept": "application/json" };
      if (etag) headers["If-None-Match"] = etag;
      fetch(url, { headers: headers, credentials: "same-origin", cache: "no-store" }).then(function (r) {
        failures = 0;
        if (stale) stale.hidden = true;
        if (r.status === 304) return null;
        if (!r.ok) return null;
        etag = r.headers.get("ETag");
        return r.json();
      }).then(function (d) {
        if (!d) return;
        if (d.status !== shown && !changed) {
          changed = true;
          if (isVoter || document.querySelector("form input:not([type=hidden]):not([type=radio]):not([type=checkbox])")) stateNotice(d.status);
          else { window.location.reload(); return; }
        }
        set("voted", d.done);
        set("not-voted", d.not_done);
        if (d.pending) set("pending", d.pending.length ? d.pending.join("、") : "无");
        var warn = $("open-warnings");
        if (warn) {
          warn.querySelectorAll("p[data-list]").forEach(function (p) {
            var names = d[p.getAttribute("data-list")] || [];
            p.hidden = !names.length;
            var b = p.querySelector("b");
            if (b) b.textContent = names.join("、");
          });
        }
      }).catch(function () {
        failures++;
        if (failures >= 2) {
          if (!stale) {
            stale = document.createElement("p");
            stale.id = "live-stale";
            stale.className = "live-stale";
            live.parentNode.insertBefore(stale, live.nextSibling);
          }
          stale.hidden = false;
          stale.textContent = "网络已断开：计数暂停更新，恢复后自动继续。";
        }
      });
    };
    setInterval(poll, 2000);
  }
})();
