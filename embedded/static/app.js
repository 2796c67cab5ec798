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
  // Set by the draft page's script: what the poll needs to follow another device's saves.
  var remoteDrafts = null;
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
    var LABEL = { agree: "同意", oppose: "反对", abstain: "弃权", "": "未选择" };
    // A row counts while it has a choice; clearing it counts it out again.
    var count = function (row) {
      var has = chosen(row);
      if (has && !row.dataset.had) { row.dataset.had = "1"; nChosen++; }
      else if (!has && row.dataset.had) { delete row.dataset.had; nChosen--; }
      var clear = row.querySelector(".choice-clear");
      if (clear) clear.hidden = !has;
      updateCounter();
    };
    // Puts a value the server holds on the row (its radios, opinion and revision).
    var showValue = function (row, v) {
      row.querySelectorAll("input[type=radio]").forEach(function (r) { r.checked = r.value === v.choice; });
      var op = row.querySelector("input[name^='opinion_']");
      if (op && v.opinion !== null && v.opinion !== undefined && document.activeElement !== op) op.value = v.opinion;
      if (v.rev !== undefined) row.dataset.rev = v.rev;
      count(row);
    };
    var dropConflict = function (row) {
      var box = row.querySelector(".conflict");
      if (box) box.parentNode.removeChild(box);
    };
    var keep, flush;
    // The server holds a newer value from another device: show it, and offer both.
    var conflict = function (code, held, mine) {
      var row = rowOf(code);
      if (!row) return;
      showValue(row, held);
      dropConflict(row);
      setState(code, "conflict", "此项已在另一设备上改为「" + LABEL[held.choice] + "」（本机为「" + LABEL[mine.choice] + "」）");
      var box = document.createElement("div");
      box.className = "conflict";
      var keepHeld = document.createElement("button");
      keepHeld.type = "button";
      keepHeld.className = "btn keep-held";
      keepHeld.textContent = "保留「" + LABEL[held.choice] + "」";
      keepHeld.addEventListener("click", function () { dropConflict(row); setState(code, "saved", "已保存"); });
      var useMine = document.createElement("button");
      useMine.type = "button";
      useMine.className = "btn use-mine";
      useMine.textContent = "改为「" + LABEL[mine.choice] + "」";
      useMine.addEventListener("click", function () {
        dropConflict(row);
        showValue(row, { choice: mine.choice, opinion: mine.opinion, rev: held.rev });
        keep(code);
        flush();
      });
      box.appendChild(keepHeld);
      box.appendChild(useMine);
      row.querySelector(".vote-cell").appendChild(box);
    };
    keep = function (code) {
      var row = rowOf(code);
      if (!row) return;
      var v = valueOf(row);
      // The revision the change was made on: the server refuses it if another device has
      // saved this row since, instead of replacing a newer choice.
      v.base = kept[code] ? kept[code].base : (row.dataset.rev || "0");
      kept[code] = v;
      store.set(key, kept);
      setState(code, "saving", "正在保存…");
      updateSubmit();
    };
    var savedText = function (v) {
      return v.choice ? "已保存" : (v.opinion ? "已保存（意见；尚未选择）" : "已保存（未选择）");
    };
    flush = function () {
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
        sent[c] = v;
        body.append("choice_" + c, v.choice);
        if (v.opinion !== null) body.append("opinion_" + c, v.opinion);
        if (v.base !== undefined) body.append("rev_" + c, v.base);
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
          var saved = (res.d && res.d.saved) || {}, conflicts = (res.d && res.d.conflicts) || {};
          var has = function (o, c) { return Object.prototype.hasOwnProperty.call(o, c); };
          codes.forEach(function (c) {
            var row = rowOf(c);
            var mine = sent[c];
            if (has(conflicts, c)) {
              if (kept[c] === mine) delete kept[c];
              conflict(c, conflicts[c], mine);
            } else if (has(saved, c)) {
              if (row) row.dataset.rev = saved[c];
              // A choice changed again while this save was on its way stays kept, now on the
              // revision this save produced.
              if (kept[c] === mine) {
                delete kept[c];
                setState(c, "saved", savedText(mine));
              } else if (kept[c]) kept[c].base = String(saved[c]);
            } else {
              // The answer does not name it: never shown as saved.
              setState(c, "unsaved", "未保存（已存本机）");
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
    // The poll names drafts this person saved on another device since `since`: rows with
    // nothing pending here take the newer value and say so; a pending row is settled by its
    // own save (the server refuses it if it is older, and the row offers both).
    remoteDrafts = {
      since: function () { return form.dataset.since || "0"; },
      apply: function (d) {
        Object.keys(d.drafts || {}).forEach(function (c) {
          var row = rowOf(c), v = d.drafts[c];
          if (!row || kept[c] || v.rev <= parseInt(row.dataset.rev || "0", 10)) return;
          dropConflict(row);
          showValue(row, v);
          setState(c, "saved", "已在另一设备上改为「" + LABEL[v.choice] + "」，已保存");
        });
        if (d.mine !== undefined) form.dataset.since = d.mine;
      }
    };
    form.querySelectorAll("tr[data-code]").forEach(function (row) {
      if (chosen(row)) row.dataset.had = "1";
      var clear = row.querySelector(".choice-clear");
      if (clear) {
        clear.hidden = !chosen(row);
        clear.addEventListener("click", function () {
          row.querySelectorAll("input[type=radio]").forEach(function (r) { r.checked = false; });
          count(row);
          keep(row.getAttribute("data-code"));
          flush();
        });
      }
    });
    // Choices kept from before (a reload while offline): put them back on screen and send them.
    Object.keys(kept).forEach(function (c) {
      var row = rowOf(c);
      if (!row) return;
      var v = kept[c];
      row.querySelectorAll("input[type=radio]").forEach(function (r) { r.checked = r.value === v.choice; });
      var op = row.querySelector("input[name^='opinion_']");
      if (op && v.opinion !== null) op.value = v.opinion;
      if (v.base === undefined) v.base = row.dataset.rev || "0";
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
      // Rows with something the server does not hold yet (never a row in conflict).
      form.querySelectorAll("tr[data-code][data-votable]").forEach(function (row) {
        var st = row.querySelector(".save-state");
        var state = st && st.getAttribute("data-state");
        if (state !== "saved" && state !== "conflict" && (chosen(row) || valueOf(row).opinion)) keep(row.getAttribute("data-code"));
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

  // ---- 纸质计票: the clerk's form, by the number keypad alone (digits and Enter) ----
  var pf = $("paper-form");
  if (pf) {
    var boxes = Array.prototype.slice.call(pf.querySelectorAll("input[inputmode=numeric]"));
    var val = function (name) { var el = pf.querySelector("input[name='" + name + "']"); return el ? parseInt(el.value, 10) || 0 : 0; };
    var sums = function () {
      var valid = val("returned") - val("invalid");
      pf.querySelectorAll("tr[data-code]").forEach(function (tr) {
        var n = 0, any = false;
        tr.querySelectorAll("input").forEach(function (el) { if (el.value !== "") any = true; n += parseInt(el.value, 10) || 0; });
        var cell = tr.querySelector(".row-sum");
        var eligible = parseInt(tr.children[2].textContent, 10) || 0;
        var over = any && (n > valid || n > eligible);
        cell.textContent = any ? String(n) + (over ? "（超出）" : "") : "";
        cell.classList.toggle("err", over);
      });
    };
    boxes.forEach(function (el, i) {
      el.addEventListener("keydown", function (e) {
        if (e.key !== "Enter") return;
        e.preventDefault();
        var next = boxes[i + 1] || $("paper-save");
        next.focus();
        if (next.select) next.select();
      });
      el.addEventListener("input", sums);
    });
    // Enter on 保存 saves (as a browser does anyway; said here for every keyboard and driver).
    var save = $("paper-save");
    if (save) save.addEventListener("keydown", function (e) {
      if (e.key !== "Enter") return;
      e.preventDefault();
      if (pf.requestSubmit) pf.requestSubmit(save); else pf.submit();
    });
    sums();
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
      var text = status === "paper" ? "本轮改为纸质投票，请在纸质选票上投票。" :
        status === "open" ? "投票已开启：请刷新页面，选完后提交投票。" :
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
      var since = remoteDrafts ? "?since=" + encodeURIComponent(remoteDrafts.since()) : "";
      fetch(url + since, { headers: headers, credentials: "same-origin", cache: "no-store" }).then(function (r) {
        failures = 0;
        if (stale) stale.hidden = true;
        if (r.status === 304) return null;
        if (!r.ok) return null;
        etag = r.headers.get("ETag");
        return r.json();
      }).then(function (d) {
        if (!d) return;
        if (remoteDrafts && d.drafts) remoteDrafts.apply(d);
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
