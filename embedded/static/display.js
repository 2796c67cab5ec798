// Room display: poll progress every 2 s; reload when the phase or the released results change.
// Long tables page through by themselves (every 10 s, 第 2/3 页) so any screen shows them whole.
(function () {
  "use strict";
  var paginate = function (table) {
    var rows = Array.prototype.slice.call(table.tBodies[0].rows);
    var label = document.createElement("p");
    label.className = "page-label";
    table.parentNode.insertBefore(label, table.nextSibling);
    var page = 0, per = rows.length;
    var show = function () {
      var pages = Math.max(1, Math.ceil(rows.length / per));
      page = page % pages;
      rows.forEach(function (r, i) { r.style.display = Math.floor(i / per) === page ? "" : "none"; });
      label.textContent = pages > 1 ? "第 " + (page + 1) + "/" + pages + " 页" : "";
    };
    // The page size is measured once for the screen (and again when it changes size), with the
    // first page shown; turning a page only moves the window, so every row gets its turn.
    var layout = function () {
      rows.forEach(function (r) { r.style.display = ""; });
      page = 0;
      // A hidden table (the groups' once results are released) is not paged: its rows have no
      // height, and a page size computed from 0 would be Infinity.
      if (!rows.length || table.getClientRects().length === 0) { per = Math.max(1, rows.length); label.textContent = ""; return; }
      label.textContent = "第 1/1 页";
      var top = table.tBodies[0].getBoundingClientRect().top + window.scrollY;
      var avail = window.innerHeight - top - label.offsetHeight - 24;
      var h = rows[0].getBoundingClientRect().height;
      var est = h > 0 ? Math.floor(avail / h) : rows.length;
      per = Math.max(1, Math.min(rows.length, isFinite(est) ? est : rows.length));
      show();
      // Margins the estimate missed: one row fewer until nothing is below the fold. Bounded
      // by the row count: it can never spin, whatever the layout reports.
      for (var guard = rows.length; guard > 0 && per > 1 &&
        document.documentElement.scrollHeight > window.innerHeight; guard--) { per--; show(); }
    };
    layout();
    table.nextPage = function () { page++; show(); };
    setInterval(table.nextPage, 10000);
    window.addEventListener("resize", layout);
  };
  document.querySelectorAll("table[data-paged]").forEach(paginate);
  var body = document.getElementById("display");
  if (!body || !window.fetch) return;
  var url = body.getAttribute("data-status-url");
  var etag = null;
  setInterval(function () {
    var h = { "Accept": "application/json" };
    if (etag) h["If-None-Match"] = etag;
    fetch(url, { headers: h, cache: "no-store" }).then(function (r) {
      if (r.status !== 200) return null;
      etag = r.headers.get("ETag");
      return r.json();
    }).then(function (d) {
      if (!d) return;
      var changed = d.committee.status !== body.getAttribute("data-status") ||
        (d.released ? "yes" : "no") !== body.getAttribute("data-released") ||
        (d.reported ? "yes" : "no") !== body.getAttribute("data-reported");
      if (changed || (d.released && d.results.length)) { if (changed) window.location.reload(); }
      document.getElementById("c-done").textContent = d.committee.done;
      document.getElementById("c-not").textContent = d.committee.not_done;
      var rows = document.querySelectorAll("#groups tbody tr");
      d.groups.forEach(function (g, i) {
        if (!rows[i]) return;
        var cells = rows[i].children;
        cells[1].textContent = g.submitted ? "评议结果已提交" : ("第 " + g.round + " 轮 · " + g.status_label);
        cells[2].textContent = g.done;
        cells[3].textContent = g.not_done;
      });
    }).catch(function () {});
  }, 2000);
})();
