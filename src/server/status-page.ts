import type { StatusSnapshot } from './status-snapshot.ts';

/** HTML-escapes text for element content and quoted attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** JSON that is safe inside a <script> element: no `<`, `>`, `&` or line separators survive literally. */
export function scriptSafeJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** The Content-Security-Policy of the page: only its own nonce'd script runs, it talks only to this server. */
export function statusPageCsp(nonce: string): string {
  return `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;
}

/**
 * The status page: one HTML document, inline CSS and script, no build step. The server embeds the first snapshot
 * as JSON (never as markup); the script renders every name and reason with textContent, so nothing from a stack
 * file, a probe reason or an override can become markup. It then follows /events without reloading.
 */
export function renderStatusPage(snapshot: StatusSnapshot, nonce: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>flotilla · ${escapeHtml(snapshot.stack)} · ${escapeHtml(snapshot.domain)}</title>
<style>
  :root { --up: #1a7f37; --up-bg: #dafbe1; --down: #b42318; --down-bg: #fee4e2; --unk: #57606a; --unk-bg: #eaeef2; --warn: #9a6700; --warn-bg: #fff8c5; --line: #d0d7de; }
  * { box-sizing: border-box; }
  body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; color: #1f2328; background: #f6f8fa; }
  header { background: #24292f; color: #fff; padding: 12px 24px; display: flex; align-items: baseline; gap: 16px; flex-wrap: wrap; }
  header h1 { font-size: 18px; margin: 0; }
  header .domain { opacity: .8; }
  header .conn { margin-left: auto; font-size: 12px; }
  .conn.live::before { content: "● "; color: #3fb950; }
  .conn.lost::before { content: "● "; color: #f85149; }
  main { padding: 16px 24px; max-width: 1300px; }
  section { background: #fff; border: 1px solid var(--line); border-radius: 6px; margin: 0 0 16px; }
  section h2 { font-size: 15px; margin: 0; padding: 8px 12px; border-bottom: 1px solid var(--line); background: #f6f8fa; border-radius: 6px 6px 0 0; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: 5px 12px; border-bottom: 1px solid #eaeef2; vertical-align: top; }
  th { font-weight: 600; font-size: 12px; color: #57606a; }
  tr:last-child td { border-bottom: 0; }
  td.num { font-variant-numeric: tabular-nums; text-align: right; }
  td.reason, td.msg { word-break: break-word; max-width: 480px; }
  .pill { display: inline-block; padding: 0 8px; border-radius: 10px; font-weight: 600; font-size: 12px; }
  .up { color: var(--up); background: var(--up-bg); }
  .down { color: var(--down); background: var(--down-bg); }
  .unknown { color: var(--unk); background: var(--unk-bg); }
  .warn { color: var(--warn); background: var(--warn-bg); }
  .muted { color: #57606a; }
  .summary { padding: 10px 12px; display: flex; gap: 12px; flex-wrap: wrap; align-items: center; }
  .summary ul { margin: 4px 0 0; padding-left: 18px; width: 100%; }
  .toolbar { padding: 8px 12px; display: flex; gap: 12px; align-items: center; flex-wrap: wrap; border-top: 1px solid #eaeef2; }
  .toolbar input { font: inherit; padding: 2px 6px; width: 9em; }
  button { font: inherit; font-size: 12px; padding: 2px 10px; border: 1px solid var(--line); border-radius: 6px; background: #f6f8fa; cursor: pointer; }
  button:hover { background: #eaeef2; }
  button.danger { color: var(--down); }
  #message { min-height: 1.4em; }
  #message.error { color: var(--down); }
  code { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; }
</style>
</head>
<body>
<header><h1>flotilla · <span id="stack"></span></h1><span class="domain" id="domain"></span><span class="conn" id="conn">connecting…</span></header>
<main>
<section><h2>Answer</h2>
  <div class="summary" id="summary"></div>
  <div class="toolbar">
    <label>drain for <input id="drain-for" value="1h" title="a duration: 30m, 2h, 1h30m; empty = until undone"></label>
    <label>your name <input id="author" placeholder="for the audit log"></label>
    <span id="token-state" class="muted"></span> <button id="forget-token" type="button">forget token</button>
    <span id="message" role="status"></span>
  </div>
</section>
<section><h2>Mirrors</h2><table id="mirrors"><thead><tr><th>mirror</th><th>health</th><th>in answer</th><th>streak</th><th>latency</th><th>last probe</th><th>last result</th><th>since</th><th>address</th><th></th></tr></thead><tbody></tbody></table></section>
<section><h2>Vantages</h2><p id="leader" class="muted"></p><table id="vantages"><thead><tr><th>vantage</th><th>lease</th><th>published</th><th>verdicts</th></tr></thead><tbody></tbody></table></section>
<section><h2>DNS providers (A/AAAA served now)</h2><table id="providers"><thead><tr><th>provider</th><th>zone</th><th>name</th><th>type</th><th>values</th><th>ttl</th><th>last converged</th><th>converge time</th><th>error</th></tr></thead><tbody></tbody></table></section>
<section><h2>Overrides</h2><table id="overrides"><thead><tr><th>kind</th><th>mirror</th><th>reason</th><th>author</th><th>created</th><th>expires</th><th>id</th><th></th></tr></thead><tbody></tbody></table></section>
<section><h2>Recent events</h2><table id="audit"><thead><tr><th>time</th><th>kind</th><th>actor</th><th>message</th></tr></thead><tbody></tbody></table></section>
</main>
<script id="initial" type="application/json">${scriptSafeJson(snapshot)}</script>
<script nonce="${nonce}">
"use strict";
(function () {
  var TOKEN_KEY = "flotilla-token", AUTHOR_KEY = "flotilla-author", MAX_AUDIT = 100;
  var snap = JSON.parse(document.getElementById("initial").textContent);
  var audit = snap.audit || [];
  var skew = Date.now() - snap.now;
  var $ = function (id) { return document.getElementById(id); };

  // Every piece of text goes through append(string) = a text node: nothing becomes markup.
  function el(tag, attrs) {
    var e = document.createElement(tag);
    if (attrs) for (var k in attrs) {
      if (attrs[k] === undefined || attrs[k] === null) continue;
      if (k === "class") e.className = attrs[k];
      else if (k === "onclick") e.addEventListener("click", attrs[k]);
      else e.setAttribute(k, String(attrs[k]));
    }
    for (var i = 2; i < arguments.length; i++) {
      var c = arguments[i];
      if (c === undefined || c === null) continue;
      e.append(c instanceof Node ? c : String(c));
    }
    return e;
  }
  function ago(t) {
    if (t === undefined || t === null) return "never";
    var s = Math.max(0, (Date.now() - skew - t) / 1000);
    if (s < 1) return "just now";
    if (s < 90) return Math.round(s) + "s ago";
    if (s < 5400) return Math.round(s / 60) + "m ago";
    if (s < 172800) return Math.round(s / 3600) + "h ago";
    return Math.round(s / 86400) + "d ago";
  }
  function until(t) {
    if (t === undefined || t === null) return "until undone";
    var s = (t - (Date.now() - skew)) / 1000;
    if (s <= 0) return "expired";
    if (s < 90) return "in " + Math.round(s) + "s";
    if (s < 5400) return "in " + Math.round(s / 60) + "m";
    return "in " + (s / 3600).toFixed(1) + "h";
  }
  function when(t, text) { return el("span", { title: t ? new Date(t).toISOString() : "" }, text); }
  function ms(v) { return v === undefined || v === null ? "–" : (v < 10 ? v.toFixed(1) : Math.round(v)) + " ms"; }
  function pill(cls, text) { return el("span", { class: "pill " + cls }, text); }
  // Updates arrive up to four times a second: patch the document in place so buttons under the pointer, text
  // selections and focus survive, and only what changed is touched.
  function sameAttrs(a, b) {
    if (a.attributes.length !== b.attributes.length) return false;
    for (var i = 0; i < b.attributes.length; i++) if (a.getAttribute(b.attributes[i].name) !== b.attributes[i].value) return false;
    return true;
  }
  function patch(a, b) {
    if (a.nodeType !== b.nodeType || a.nodeName !== b.nodeName) { a.replaceWith(b); return; }
    if (a.nodeType === Node.TEXT_NODE) { if (a.nodeValue !== b.nodeValue) a.nodeValue = b.nodeValue; return; }
    if (!sameAttrs(a, b)) { a.replaceWith(b); return; }
    var next = Array.prototype.slice.call(b.childNodes);
    if (a.childNodes.length !== next.length) { a.replaceChildren.apply(a, next); return; }
    for (var i = 0; i < next.length; i++) patch(a.childNodes[i], next[i]);
  }
  function patchChildren(target, children) {
    var shadow = target.cloneNode(false);
    shadow.append.apply(shadow, children.filter(Boolean));
    patch(target, shadow);
  }
  function fill(id, rows, empty, cols) {
    patchChildren($(id).tBodies[0], rows.length ? rows : [el("tr", null, el("td", { colspan: cols, class: "muted" }, empty))]);
  }

  function render() {
    $("stack").textContent = snap.stack;
    $("domain").textContent = snap.domain;
    var s = $("summary");
    var notes = el("ul");
    snap.notes.forEach(function (n) { notes.append(el("li", null, n)); });
    patchChildren(s, [
      el("span", null, "serving: "), el("strong", { id: "serving" }, snap.serving.join(", ") || "(nothing)"),
      snap.failOpen ? pill("down", "FAIL OPEN") : null,
      snap.failStatic ? el("span", { id: "fail-static" }, pill("down", "FAIL STATIC: " + snap.failStatic)) : null,
      snap.degraded ? pill("warn", "degraded") : null,
      snap.published && snap.published.join(",") !== snap.serving.join(",") ? pill("warn", "publishing…") : null,
      snap.notes.length ? notes : null
    ]);
    fill("mirrors", snap.mirrors.map(function (m) {
      var action = m.drained
        ? el("button", { type: "button", "data-action": "undrain", "data-mirror": m.name, onclick: function () { undrain(m.name); } }, "undrain")
        : el("button", { type: "button", class: "danger", "data-action": "drain", "data-mirror": m.name, onclick: function () { drain(m.name); } }, "drain");
      return el("tr", { "data-mirror": m.name, "data-state": m.state },
        el("td", null, el("strong", null, m.name), " ", el("span", { class: "muted" }, m.provider)),
        el("td", { class: "health" }, pill(m.state, m.state), m.deplatformed ? pill("down", "deplatformed") : null, m.recentFlips >= 3 ? pill("warn", "flapping") : null),
        el("td", { class: "serving" }, m.drained ? pill("warn", "drained") : m.serving ? "yes" : "no"),
        el("td", { class: "num streak" }, m.failureStreak > 0 ? "✗ " + m.failureStreak : "✓ " + m.successStreak),
        el("td", { class: "num latency" }, ms(m.lastLatencyMs)),
        el("td", null, when(m.lastProbeAt, ago(m.lastProbeAt))),
        el("td", { class: "reason" }, m.lastReason === undefined ? "–" : m.lastReason),
        el("td", null, when(m.since, m.since ? ago(m.since) : "–")),
        el("td", null, el("code", null, m.address || "–")),
        el("td", null, action));
    }), "no mirrors", 10);
    $("leader").textContent = snap.leader ? "leader: " + snap.leader.vantage + (snap.leader.since ? " since " + new Date(snap.leader.since).toLocaleTimeString() + " (" + ago(snap.leader.since) + ")" : "") + (snap.leader.vantage === snap.vantage ? " (this controller)" : "") : "no leader: nothing is written";
    fill("vantages", (snap.vantages || []).map(function (v) {
      var verdicts = Object.keys(v.verdicts).map(function (m) { return pill(v.verdicts[m], m + " " + v.verdicts[m]); });
      return el("tr", { "data-vantage": v.name, "data-live": v.live ? "live" : "stale" },
        el("td", null, el("strong", null, v.name), v.self ? el("span", { class: "muted" }, " (this one)") : ""),
        el("td", null, v.live ? pill("up", "live") : pill("down", "stale")),
        el("td", null, when(v.at, v.at ? ago(v.at) : "–")),
        el.apply(null, ["td", null].concat(verdicts)));
    }), "no vantage", 4);
    var prow = [];
    snap.providers.forEach(function (p) {
      var conv = [when(p.lastConvergedAt, ago(p.lastConvergedAt)), ms(p.lastConvergeMs)];
      var err = p.lastError ? el("span", { class: "pill down" }, (p.lastErrorCode ? "[" + p.lastErrorCode + "] " : "") + p.lastError) : "";
      if (!p.records.length) prow.push(el("tr", { "data-provider": p.name }, el("td", null, el("strong", null, p.name), " ", el("span", { class: "muted" }, p.kind)), el("td", { colspan: 5, class: "muted" }, "nothing seen yet"), el("td", null, conv[0]), el("td", { class: "num" }, conv[1]), el("td", null, err)));
      p.records.forEach(function (r, i) {
        prow.push(el("tr", { "data-provider": p.name },
          el("td", null, i === 0 ? el("strong", null, p.name) : "", i === 0 ? " " : "", i === 0 ? el("span", { class: "muted" }, p.kind) : ""),
          el("td", null, r.zone), el("td", null, r.name), el("td", null, r.type),
          el("td", { class: "values" }, el("code", null, r.values.join(" "))), el("td", { class: "num" }, r.ttl),
          el("td", null, i === 0 ? conv[0] : ""), el("td", { class: "num" }, i === 0 ? conv[1] : ""), el("td", null, i === 0 ? err : "")));
      });
    });
    fill("providers", prow, "no DNS providers", 9);
    fill("overrides", snap.overrides.map(function (o) {
      return el("tr", { "data-override": o.id },
        el("td", null, pill(o.kind === "drain" ? "warn" : "down", o.kind)), el("td", null, o.mirror),
        el("td", { class: "reason" }, o.reason), el("td", null, o.author),
        el("td", null, when(o.createdAt, ago(o.createdAt))), el("td", null, when(o.expiresAt, until(o.expiresAt))),
        el("td", null, el("code", null, o.id)),
        el("td", null, el("button", { type: "button", "data-action": "clear", onclick: function () { clear(o.mirror, o.id); } }, "remove")));
    }), "none", 8);
    renderAudit();
    $("token-state").textContent = sessionStorage.getItem(TOKEN_KEY) ? "token: kept for this tab" : "token: asked on first change";
  }
  function renderAudit() {
    fill("audit", audit.slice().reverse().map(function (e) {
      var cls = /error|fail|down/.test(e.kind + " " + (e.data && e.data.state || "")) ? "down" : e.kind === "override" ? "warn" : "unknown";
      return el("tr", { "data-kind": e.kind },
        el("td", null, when(e.at, new Date(e.at).toLocaleTimeString())), el("td", null, pill(cls, e.kind)),
        el("td", null, e.actor || ""), el("td", { class: "msg" }, e.message));
    }), "nothing yet", 4);
  }

  function say(text, isError) { var m = $("message"); m.textContent = text; m.className = isError ? "error" : ""; }
  function token() {
    var t = sessionStorage.getItem(TOKEN_KEY);
    if (!t) {
      t = window.prompt("API token (the value of the daemon's token variable; kept for this tab only)");
      if (!t) return null;
      sessionStorage.setItem(TOKEN_KEY, t.trim());
    }
    return sessionStorage.getItem(TOKEN_KEY);
  }
  function post(path, body) {
    var t = token();
    if (!t) { say("no token: nothing changed", true); return Promise.resolve(null); }
    var headers = { "content-type": "application/json", authorization: "Bearer " + t };
    var who = $("author").value.trim();
    headers["x-flotilla-author"] = who || "status-page";
    return fetch(path, { method: "POST", headers: headers, body: JSON.stringify(body) }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (j) {
        if (r.status === 401) { sessionStorage.removeItem(TOKEN_KEY); render(); }
        return { status: r.status, body: j };
      });
    });
  }
  function done(r) {
    if (!r) return;
    if (r.status === 200) say(r.body.message || "done", false);
    else say("refused (" + r.status + "): " + (r.body.error || "unknown error"), true);
  }
  function drain(name) {
    var reason = window.prompt("Why drain " + name + "? (goes to the audit log)");
    if (!reason || !reason.trim()) { say("drain needs a reason: nothing changed", true); return; }
    var body = { mirror: name, reason: reason.trim() };
    var dur = $("drain-for").value.trim();
    if (dur) body.for = dur;
    post("/api/drain", body).then(function (r) {
      if (r && r.status === 409 && window.confirm(r.body.error + "\\n\\nRecord the drain anyway?")) { body.force = true; return post("/api/drain", body); }
      return r;
    }).then(done, function (e) { say("request failed: " + e.message, true); });
  }
  function undrain(name) { post("/api/undrain", { mirror: name }).then(done, function (e) { say("request failed: " + e.message, true); }); }
  function clear(name, id) { post("/api/clear", { mirror: name, id: id }).then(done, function (e) { say("request failed: " + e.message, true); }); }

  $("forget-token").addEventListener("click", function () { sessionStorage.removeItem(TOKEN_KEY); render(); say("token forgotten", false); });
  $("author").value = sessionStorage.getItem(AUTHOR_KEY) || "";
  $("author").addEventListener("change", function () { sessionStorage.setItem(AUTHOR_KEY, $("author").value.trim()); });

  var lost = false;
  var es = new EventSource("/events");
  es.addEventListener("open", function () {
    $("conn").textContent = "live"; $("conn").className = "conn live";
    if (lost) {
      // catch up on audit events missed while disconnected
      var since = audit.length ? audit[audit.length - 1].at + 1 : 0;
      fetch("/api/history?since=" + since).then(function (r) { return r.json(); }).then(function (j) { audit = audit.concat(j.events).slice(-MAX_AUDIT); renderAudit(); });
      lost = false;
    }
  });
  es.addEventListener("error", function () { lost = true; $("conn").textContent = "reconnecting…"; $("conn").className = "conn lost"; });
  es.addEventListener("status", function (e) { snap = JSON.parse(e.data); skew = Date.now() - snap.now; render(); });
  es.addEventListener("audit", function (e) { audit.push(JSON.parse(e.data)); audit = audit.slice(-MAX_AUDIT); renderAudit(); });
  setInterval(render, 1000);
  render();
})();
</script>
</body>
</html>
`;
}
