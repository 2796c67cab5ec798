// Room display: poll progress every 2 s; reload when the phase or the released results change.
(function () {
  "use strict";
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
