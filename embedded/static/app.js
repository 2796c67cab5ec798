// pingshen — small progressive enhancements; every page works without them.
(function () {
  "use strict";
  var lastButton = null;
  document.addEventListener("click", function (e) {
    var t = e.target;
    if (!t || !t.getAttribute) return;
    if (t.hasAttribute("data-print")) window.print();
    var msg = t.getAttribute("data-confirm-click");
    if (msg && !window.confirm(msg)) { e.preventDefault(); return; }
    if (t.form) lastButton = t;
  });
  document.addEventListener("submit", function (e) {
    var form = e.target;
    var msg = form.getAttribute && form.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) { e.preventDefault(); return; }
    // One submission per click: a double click must not send the form twice.
    if (form.dataset.sent) { e.preventDefault(); return; }
    form.dataset.sent = "1";
    setTimeout(function () { delete form.dataset.sent; }, 4000);
  });

  // Live counters (小组数据操作 / 评委会数据操作): poll a small JSON endpoint every 2 s.
  var live = document.getElementById("live");
  if (live && window.fetch) {
    var url = live.getAttribute("data-status-url");
    var shown = live.getAttribute("data-status");
    var etag = null;
    var set = function (id, text) { var el = document.getElementById(id); if (el) el.textContent = text; };
    var poll = function () {
      var headers = { "Accept": "application/json" };
      if (etag) headers["If-None-Match"] = etag;
      fetch(url, { headers: headers, credentials: "same-origin", cache: "no-store" }).then(function (r) {
        if (r.status === 304) return null;
        if (!r.ok) return null;
        etag = r.headers.get("ETag");
        return r.json();
      }).then(function (d) {
        if (!d) return;
        if (d.status !== shown) { window.location.reload(); return; }
        set("voted", d.done);
        set("not-voted", d.not_done);
        set("pending", d.pending.length ? d.pending.join("、") : "无");
      }).catch(function () {});
    };
    setInterval(poll, 2000);
  }
})();
