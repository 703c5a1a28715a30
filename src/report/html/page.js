// sioscope report page: a view of the JSON embedded in this file (decode events and the explain
// document of each capture), drawn as plain SVG and DOM. No library, no network.
(function () {
  "use strict";
  var SVGNS = "http:" + "//www.w3.org/2000/svg";
  var ROW = 20;

  function el(tag, attrs) {
    var e = document.createElement(tag);
    set(e, attrs);
    for (var i = 2; i < arguments.length; i++) add(e, arguments[i]);
    return e;
  }
  function sv(tag, attrs) {
    var e = document.createElementNS(SVGNS, tag);
    set(e, attrs);
    for (var i = 2; i < arguments.length; i++) add(e, arguments[i]);
    return e;
  }
  function set(e, attrs) {
    if (!attrs) return;
    Object.keys(attrs).forEach(function (k) {
      if (attrs[k] !== undefined && attrs[k] !== null) e.setAttribute(k, attrs[k]);
    });
  }
  function add(e, kid) {
    if (kid === undefined || kid === null) return;
    if (Array.isArray(kid)) { kid.forEach(function (k) { add(e, k); }); return; }
    e.appendChild(typeof kid === "object" ? kid : document.createTextNode(String(kid)));
  }
  function short(sid) { return sid && sid.length > 8 ? sid.slice(0, 8) + "…" : (sid || "—"); }
  function ip(addr) {
    if (!addr) return "?";
    if (addr.charAt(0) === "[") return addr.slice(0, addr.indexOf("]") + 1);
    var i = addr.lastIndexOf(":");
    return i > 0 ? addr.slice(0, i) : addr;
  }
  function fmtS(x) { return (x >= 0 ? "" : "-") + Math.abs(x).toFixed(3) + " s"; }
  function frameLink(ci, f) {
    return el("a", { "class": "frame", href: "#c" + ci + "-f" + f, "data-cap": ci, "data-frame": f }, "#" + f);
  }

  var causeInfo = JSON.parse(document.getElementById("sio-causes").textContent);
  var abnormal = {};
  causeInfo.forEach(function (c) { abnormal[c.cause] = c.abnormal; });
  function endClass(cause) {
    if (cause === "still-open") return "open-session";
    return abnormal[cause] === false ? "clean" : "abnormal";
  }
  function endColor(cause) {
    var c = endClass(cause);
    return c === "clean" ? "var(--clean)" : c === "abnormal" ? "var(--abnormal)" : "var(--open)";
  }
  function certaintyOf(end) {
    if (!end) return null;
    return end.certainty || null;
  }

  var caps = [];
  Array.prototype.forEach.call(document.querySelectorAll("script.sio-data"), function (s) {
    var i = +s.getAttribute("data-capture");
    caps[i] = caps[i] || {};
    caps[i][s.getAttribute("data-kind")] = JSON.parse(s.textContent);
  });

  var app = document.getElementById("app");
  app.textContent = "";
  var views = [];
  caps.forEach(function (cap, ci) { views.push(renderCapture(cap, ci)); });
  // Milliseconds from navigation start until the page was drawn (docs/report.md measures it).
  document.documentElement.setAttribute("data-render-ms", String(Math.round(performance.now())));

  document.addEventListener("click", function (e) {
    var a = e.target.closest ? e.target.closest("a.frame") : null;
    if (!a) return;
    e.preventDefault();
    var v = views[+a.getAttribute("data-cap")];
    if (v) v.table.goto(+a.getAttribute("data-frame"));
  });

  function renderCapture(cap, ci) {
    var ex = cap.explain || {};
    var events = (cap.events && cap.events.events) || [];
    var sessions = ex.sessions || [];
    var root = el("section", { "class": "capture", id: "capture-" + ci });
    app.appendChild(root);

    // Time range and per-session facts from the events.
    var t0 = Infinity, t1 = -Infinity;
    events.forEach(function (e) { if (e.ts < t0) t0 = e.ts; if (e.ts > t1) t1 = e.ts; });
    var bySid = {};
    sessions.forEach(function (f) {
      bySid[f.sid] = { f: f, pings: [], pongs: [], msgs: [], wsFirst: null, pingTimeout: null };
      var s = f.start && f.start.ts, e = f.end && f.end.at && f.end.at.ts;
      if (s < t0) t0 = s;
      if (e > t1) t1 = e;
    });
    if (!isFinite(t0)) { t0 = 0; t1 = 1; }
    if (t1 <= t0) t1 = t0 + 1;
    var causeOfSid = {};
    sessions.forEach(function (f) { causeOfSid[f.sid] = f.end && f.end.cause; });
    events.forEach(function (e) {
      var eio = e.eio, sid = (eio && eio.sid) || e.sid;
      var s = sid && bySid[sid];
      if (!s) return;
      if (eio && eio.transport === "websocket" && s.wsFirst === null) s.wsFirst = e.ts;
      if (e.layer === "eio" && eio.type === "open" && eio.open) s.pingTimeout = eio.open.pingTimeout;
      if (e.layer === "eio" && eio.type === "ping" && eio.text !== "probe") s.pings.push(e);
      if (e.layer === "eio" && eio.type === "pong" && eio.text !== "probe") s.pongs.push(e);
      if (e.layer === "sio") s.msgs.push(e);
    });

    // Header and summary.
    var sum = ex.summary || {};
    root.appendChild(el("h1", null, ex.capture || ("capture " + (ci + 1))));
    root.appendChild(el("div", { "class": "sub" },
      (sum.sessions !== undefined ? sum.sessions : sessions.length) + " Engine.IO sessions · " +
      (sum.abnormal !== undefined ? sum.abnormal : "?") + " abnormal · " +
      (typeof sum.duration === "number" ? sum.duration.toFixed(1) + " s" : "") + " · " +
      events.length + " packets in the table"));
    var table; // set below; chips filter it
    var counts = {}, fixes = {};
    sessions.forEach(function (f) {
      var c = (f.end && f.end.cause) || "unknown";
      counts[c] = (counts[c] || 0) + 1;
      if (f.end && f.end.fix) fixes[f.end.fix] = (fixes[f.end.fix] || 0) + 1;
    });
    root.appendChild(el("h2", null, "Causes"));
    var chips = el("div", { "class": "chips" });
    Object.keys(counts).sort(function (a, b) { return counts[b] - counts[a]; }).forEach(function (c) {
      var chip = el("span", { "class": "chip " + endClass(c), "data-cause-count": c },
        el("b", null, String(counts[c])), c);
      chip.addEventListener("click", function () {
        var on = chip.classList.toggle("on");
        Array.prototype.forEach.call(chips.children, function (k) { if (k !== chip) k.classList.remove("on"); });
        table.setCause(on ? c : "");
      });
      chips.appendChild(chip);
    });
    if (!sessions.length) chips.appendChild(el("span", { "class": "note" }, "no Engine.IO session in this capture"));
    root.appendChild(chips);
    if (Object.keys(fixes).length) {
      root.appendChild(el("h2", null, "Fixes"));
      root.appendChild(el("ul", { "class": "fixes" }, Object.keys(fixes).map(function (x) {
        return el("li", null, el("b", null, fixes[x] + " × "), x);
      })));
    }
    var known = { sessions: 1, abnormal: 1, duration: 1 };
    var extra = Object.keys(sum).filter(function (k) { return !known[k]; });
    if (extra.length) {
      var o = {};
      extra.forEach(function (k) { o[k] = sum[k]; });
      root.appendChild(generic(o, ci));
    }

    // Timeline.
    root.appendChild(el("h2", null, "Timeline per client"));
    root.appendChild(el("div", { "class": "legend" },
      el("span", null, el("i", { style: "background:var(--polling)" }), "polling"),
      el("span", null, el("i", { style: "background:var(--upgrade)" }), "upgrade (probing)"),
      el("span", null, el("i", { style: "background:var(--websocket)" }), "websocket"),
      el("span", null, el("i", { style: "background:var(--clean)" }), "clean end"),
      el("span", null, el("i", { style: "background:var(--abnormal)" }), "abnormal end"),
      el("span", null, el("i", { style: "background:var(--ping)" }), "ping"),
      el("span", null, el("i", { style: "background:var(--pong)" }), "pong"),
      el("span", null, "✕ missed pong deadline"),
      el("span", null, el("i", { style: "background:#6b4fa8" }), "reconnect chain")));
    root.appendChild(timeline(ci, sessions, bySid, ex.chains || [], t0, t1, function (sid) {
      table.setSid(sid);
      var d = document.getElementById("c" + ci + "-s-" + sid);
      if (d) { d.open = true; d.scrollIntoView({ block: "nearest" }); }
    }));

    // Findings.
    root.appendChild(el("h2", null, "Findings"));
    var order = sessions.slice().sort(function (a, b) {
      return (endClass(a.end && a.end.cause) === "abnormal" ? 0 : 1) - (endClass(b.end && b.end.cause) === "abnormal" ? 0 : 1);
    });
    order.forEach(function (f) { root.appendChild(finding(f, ci, t0)); });
    if (ex.chains && ex.chains.length) {
      root.appendChild(el("h2", null, "Reconnect chains"));
      ex.chains.forEach(function (c) {
        var li = el("div", { "class": "chainline" }, el("b", null, c.client + ": "), (c.sids || []).map(short).join(" → "));
        (c.links || []).forEach(function (l) {
          li.appendChild(el("div", { "class": "note", "data-chain": l.from + " " + l.to },
            short(l.from) + " → " + short(l.to) + " after " + (l.gap_ms !== undefined ? Math.round(l.gap_ms) + " ms" : "?") +
            " (" + (l.cause || "?") + ", by " + (l.by || "?") + ")" +
            (l.sockets || []).map(function (s) { return " · " + s.nsp + " " + short(s.from) + " → " + short(s.to) + (s.recovered ? " (recovered)" : ""); }).join("")));
        });
        root.appendChild(li);
      });
    }
    if (ex.sessionless_errors && ex.sessionless_errors.length) {
      root.appendChild(el("h2", null, "Refused outside any session"));
      root.appendChild(marks(ex.sessionless_errors, ci, t0));
    }
    var knownTop = { capture: 1, summary: 1, sessions: 1, chains: 1, sessionless_errors: 1 };
    Object.keys(ex).filter(function (k) { return !knownTop[k]; }).forEach(function (k) {
      root.appendChild(el("h2", null, k.replace(/_/g, " ")));
      root.appendChild(generic(ex[k], ci));
    });

    // Charts per session.
    root.appendChild(el("h2", null, "Messages and heartbeats per session"));
    var charts = el("div", { "class": "charts" });
    var shown = sessions.filter(function (f, i) { return i < 60 || endClass(f.end && f.end.cause) === "abnormal"; }).slice(0, 120);
    shown.forEach(function (f) { charts.appendChild(chartCard(bySid[f.sid])); });
    root.appendChild(charts);
    if (shown.length < sessions.length) root.appendChild(el("p", { "class": "note" }, "charts of " + shown.length + " of " + sessions.length + " sessions (the first 60 and abnormal ones)"));

    // Packet table.
    root.appendChild(el("h2", null, "Packets"));
    table = packetTable(ci, events, causeOfSid, t0);
    root.appendChild(table.node);
    return { table: table };
  }

  function missedDeadlines(s) {
    var out = [];
    if (!s || !s.pingTimeout) return out;
    var pongs = s.pongs.map(function (p) { return p.ts; });
    var endTs = s.f.end && s.f.end.at ? s.f.end.at.ts : Infinity;
    s.pings.forEach(function (p) {
      var deadline = p.ts + s.pingTimeout / 1000;
      var answered = pongs.some(function (t) { return t >= p.ts && t <= deadline; });
      // A ping whose deadline falls after the session ended was not missed: the session was gone.
      if (!answered && deadline <= endTs + 0.001) out.push(deadline);
    });
    return out;
  }

  function timeline(ci, sessions, bySid, chains, t0, t1, onPick) {
    var W = 1280, L = 200, R = 220, H0 = 26, RH = 30;
    var groups = {}, orderIps = [];
    sessions.forEach(function (f) {
      var k = ip(f.client);
      if (!groups[k]) { groups[k] = []; orderIps.push(k); }
      groups[k].push(f);
    });
    var rows = [], y = H0, rowY = {};
    orderIps.forEach(function (k) {
      rows.push({ head: k, y: y }); y += 20;
      groups[k].forEach(function (f) { rowY[f.sid] = y; rows.push({ f: f, y: y }); y += RH; });
      y += 6;
    });
    var H = Math.max(y + 10, 60);
    var x = function (t) { return L + (t - t0) / (t1 - t0) * (W - L - R); };
    var g = sv("svg", { "class": "timeline", viewBox: "0 0 " + W + " " + H, width: W, height: H, role: "img" });
    g.appendChild(sv("defs", null, sv("marker", { id: "arrow" + ci, viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" },
      sv("path", { d: "M0 0L10 5L0 10z", fill: "#6b4fa8" }))));
    for (var i = 0; i <= 6; i++) {
      var t = t0 + (t1 - t0) * i / 6, xx = x(t);
      g.appendChild(sv("line", { "class": "axis", x1: xx, x2: xx, y1: 16, y2: H - 4 }));
      g.appendChild(sv("text", { x: xx, y: 12, "text-anchor": "middle" }, fmtS(t - t0)));
    }
    rows.forEach(function (r) {
      if (r.head) { g.appendChild(sv("text", { "class": "client", x: 6, y: r.y + 13 }, "client " + r.head)); return; }
      var f = r.f, s = bySid[f.sid], yb = r.y + 8, hb = 12;
      var start = f.start ? f.start.ts : t0, end = f.end && f.end.at ? f.end.at.ts : t1;
      var up = f.upgrade_at ? f.upgrade_at.ts : null;
      var tr = f.transports || [];
      var segs = [];
      if (tr[0] === "websocket") segs.push(["websocket", start, end]);
      else {
        var ws0 = s && s.wsFirst !== null ? Math.max(s.wsFirst, start) : null;
        if (up !== null) {
          segs.push(["polling", start, ws0 !== null && ws0 < up ? ws0 : up]);
          if (ws0 !== null && ws0 < up) segs.push(["upgrade", ws0, up]);
          segs.push(["websocket", up, end]);
        } else if (ws0 !== null) {
          segs.push(["polling", start, end]);
          segs.push(["upgrade", ws0, end, true]);
        } else segs.push(["polling", start, end]);
      }
      var cause = f.end ? f.end.cause : "unknown";
      var sock = (f.sockets || []).map(function (k) { return k.nsp + " " + (k.socket_id || "(no id)") + (k.refused ? " refused" : "") + (k.recovered ? " recovered" : ""); });
      var tip = "sid " + f.sid + "\nclient " + f.client + " → " + f.server + "\nEIO " + (f.eio === null ? "0.9" : f.eio) +
        " · " + tr.join(" → ") + " · upgrade " + f.upgrade + "\nsockets: " + (sock.join(", ") || "none") +
        "\nended: " + cause + (certaintyOf(f.end) ? " (" + certaintyOf(f.end) + ")" : "") +
        (f.end && f.end.reason ? " · server: " + f.end.reason : "") + (f.end && f.end.client_reason ? " · client: " + f.end.client_reason : "");
      var grp = sv("g", { "class": "sess", "data-sid": f.sid, "data-cause": cause }, sv("title", null, tip));
      grp.addEventListener("click", function () { onPick(f.sid); });
      grp.appendChild(sv("text", { x: 14, y: yb + 10 }, short(f.sid) + "  EIO" + (f.eio === null ? "0.9" : f.eio) + "  " +
        (f.sockets || []).map(function (k) { return k.nsp; }).filter(function (v, i, a) { return a.indexOf(v) === i; }).join(" ")));
      segs.forEach(function (sg) {
        var x1 = x(sg[1]), x2 = Math.max(x(sg[2]), x1 + 1.5);
        var seg = sv("rect", { "class": "seg", x: x1, y: sg[3] ? yb + 3 : yb, width: x2 - x1, height: sg[3] ? hb - 6 : hb, rx: 2, fill: "var(--" + sg[0] + ")" });
        grp.appendChild(seg);
      });
      if (s) {
        s.pings.slice(0, 400).forEach(function (p) { grp.appendChild(sv("line", { x1: x(p.ts), x2: x(p.ts), y1: yb - 5, y2: yb, stroke: "var(--ping)", "stroke-width": 1.2 })); });
        s.pongs.slice(0, 400).forEach(function (p) { grp.appendChild(sv("line", { x1: x(p.ts), x2: x(p.ts), y1: yb + hb, y2: yb + hb + 5, stroke: "var(--pong)", "stroke-width": 1.2 })); });
        missedDeadlines(s).slice(0, 50).forEach(function (t) {
          grp.appendChild(sv("text", { x: x(t), y: yb - 1, "text-anchor": "middle", fill: "var(--abnormal)", "font-weight": 700 }, "✕"));
        });
      }
      var xe = x(end);
      grp.appendChild(sv("circle", { cx: xe, cy: yb + hb / 2, r: 5.5, fill: endColor(cause), stroke: "#fff", "stroke-width": 1.5 }));
      var cert = certaintyOf(f.end);
      grp.appendChild(sv("text", { "class": "endtext", x: xe + 9, y: yb + 10, fill: endColor(cause) }, cause + (cert ? " · " + cert : "")));
      g.appendChild(grp);
    });
    chains.forEach(function (c) {
      (c.links || []).forEach(function (l) {
        var a = bySid[l.from], b = bySid[l.to];
        if (!a || !b || rowY[l.from] === undefined || rowY[l.to] === undefined) return;
        var xa = x(a.f.end && a.f.end.at ? a.f.end.at.ts : t1), ya = rowY[l.from] + 20;
        var xb = x(b.f.start ? b.f.start.ts : t0), yb = rowY[l.to] + 8;
        var mx = Math.max(xa, xb) + 18;
        g.appendChild(sv("path", { "class": "chain", d: "M" + xa + " " + ya + " C" + mx + " " + ya + " " + (xb - 30) + " " + yb + " " + (xb - 2) + " " + (yb + 6),
          "marker-end": "url(#arrow" + ci + ")", "data-chain": l.from + " " + l.to }));
        g.appendChild(sv("text", { "class": "chaintext", x: Math.min(xa, xb) + Math.abs(xb - xa) / 2 + 14, y: (ya + yb) / 2 + 8 },
          "↻ " + (l.gap_ms !== undefined ? (l.gap_ms >= 1000 ? (l.gap_ms / 1000).toFixed(1) + " s" : Math.round(l.gap_ms) + " ms") : "") +
          (l.sockets && l.sockets.some(function (k) { return k.recovered; }) ? " recovered" : "")));
      });
    });
    return g;
  }

  function marks(list, ci, t0) {
    return el("table", { "class": "marks" }, (list || []).map(function (m) {
      return el("tr", null, el("td", null, frameLink(ci, m.frame)), el("td", null, fmtS(m.ts - t0)),
        el("td", null, m.dir || ""), el("td", null, "c" + m.conn), el("td", null, m.what));
    }));
  }

  function generic(v, ci) {
    // Any JSON the page does not know yet (fields added to explain's document), frames linked.
    function walk(x, key) {
      if (x === null || typeof x !== "object") {
        if ((key === "frame" || key === "first_frame") && typeof x === "number") return frameLink(ci, x);
        return document.createTextNode(JSON.stringify(x));
      }
      if (Array.isArray(x)) return el("div", null, x.map(function (y) { return el("div", null, "• ", walk(y)); }));
      return el("div", null, Object.keys(x).map(function (k) {
        return el("div", { style: "margin-left:10px" }, k + ": ", walk(x[k], k));
      }));
    }
    return el("div", { "class": "generic" }, walk(v));
  }

  function finding(f, ci, t0) {
    var end = f.end || {}, cause = end.cause || "unknown", cls = endClass(cause);
    var cert = certaintyOf(end);
    var d = el("details", { "class": "finding " + cls, id: "c" + ci + "-s-" + f.sid, "data-sid": f.sid, "data-cause": cause });
    if (cls === "abnormal") d.open = true;
    d.appendChild(el("summary", null, cls === "clean" ? "✓ " : cls === "abnormal" ? "✗ " : "● ",
      el("b", null, f.sid), "  ", el("span", { "class": "cause" }, cause),
      cert ? el("span", { "class": "certainty" }, cert) : null,
      end.reason ? "  server: \"" + end.reason + "\"" : "", end.client_reason ? " · client: \"" + end.client_reason + "\"" : "",
      el("span", { "class": "sub" }, "  " + f.client + " · EIO " + (f.eio === null ? "0.9" : f.eio) + " · " + (f.transports || []).join(" → ") +
        " · ended " + (end.at ? fmtS(end.at.ts - t0) : "?") + " by " + (end.initiator || "?"))));
    var b = el("div", { "class": "body" });
    if (end.certainty_reason) b.appendChild(el("p", { "class": "note" }, "certainty: " + end.certainty_reason));
    if (end.explanation) b.appendChild(el("p", null, end.explanation));
    if (end.fix) b.appendChild(el("p", null, el("span", { "class": "fix" }, "fix: " + end.fix)));
    b.appendChild(el("div", null, el("b", null, "Evidence")));
    b.appendChild(marks(end.evidence, ci, t0));
    (f.notes || []).forEach(function (n) {
      b.appendChild(el("div", null, el("b", null, n.kind + ": "), n.text));
      b.appendChild(marks(n.evidence, ci, t0));
    });
    if (f.lost && f.lost.length) { b.appendChild(el("div", null, el("b", null, "Lost after the close"))); b.appendChild(marks(f.lost, ci, t0)); }
    b.appendChild(el("div", { "class": "note" }, "sockets: " + ((f.sockets || []).map(function (k) { return k.nsp + " " + (k.socket_id || "(none)"); }).join(", ") || "none") +
      " · user agent: " + (f.user_agent || "?") + " · started ", frameLink(ci, f.start ? f.start.frame : 0)));
    var knownEnd = { at: 1, cause: 1, reason: 1, client_reason: 1, initiator: 1, evidence: 1, explanation: 1, fix: 1, certainty: 1, certainty_reason: 1 };
    var o = {}, any = false;
    Object.keys(end).forEach(function (k) { if (!knownEnd[k]) { o[k] = end[k]; any = true; } });
    if (any) b.appendChild(generic(o, ci));
    d.appendChild(b);
    return d;
  }

  function sizeOf(e) {
    if (e._size !== undefined) return e._size;
    var d = e.sio ? e.sio.data : e.layer === "ws" ? e.len : e.layer === "http" ? e.body_len : undefined;
    var n = "";
    if (typeof d === "number") n = d;
    else if (d && typeof d === "object" && d._truncated !== undefined) n = d._truncated;
    else if (d !== undefined) n = JSON.stringify(d).length;
    e._size = n;
    return n;
  }

  function chartCard(s) {
    var f = s.f, W = 400, H = 54;
    var start = f.start ? f.start.ts : 0, end = f.end && f.end.at ? f.end.at.ts : start + 1;
    if (end <= start) end = start + 0.001;
    var N = 50, up = new Array(N).fill(0), down = new Array(N).fill(0), max = 1;
    var bucket = function (t) { return Math.min(N - 1, Math.max(0, Math.floor((t - start) / (end - start) * N))); };
    s.msgs.forEach(function (e) {
      var k = bucket(e.ts);
      if (e.dir === "c2s") up[k]++; else down[k]++;
    });
    up.concat(down).forEach(function (v) { if (v > max) max = v; });
    var rate = sv("svg", { viewBox: "0 0 " + W + " " + H, width: W, height: H });
    rate.appendChild(sv("line", { x1: 0, x2: W, y1: H / 2, y2: H / 2, stroke: "var(--line)" }));
    for (var i = 0; i < N; i++) {
      var bw = W / N - 1, hx = i * W / N;
      if (up[i]) rate.appendChild(sv("rect", { x: hx, y: H / 2 - up[i] / max * (H / 2 - 2), width: bw, height: up[i] / max * (H / 2 - 2), fill: "var(--websocket)" }));
      if (down[i]) rate.appendChild(sv("rect", { x: hx, y: H / 2, width: bw, height: down[i] / max * (H / 2 - 2), fill: "var(--upgrade)" }));
    }
    var sizes = sv("svg", { viewBox: "0 0 " + W + " " + H, width: W, height: H });
    var smax = 1;
    s.msgs.forEach(function (e) { var n = +sizeOf(e) || 0; if (n > smax) smax = n; });
    var lmax = Math.log(smax + 1);
    s.msgs.slice(0, 3000).forEach(function (e) {
      var n = +sizeOf(e) || 0;
      sizes.appendChild(sv("circle", { cx: (e.ts - start) / (end - start) * (W - 4) + 2, cy: H - 3 - Math.log(n + 1) / lmax * (H - 8), r: 2,
        fill: e.dir === "c2s" ? "var(--websocket)" : "var(--upgrade)" }));
    });
    var hb = sv("svg", { viewBox: "0 0 " + W + " 14", width: W, height: 14 });
    s.pings.forEach(function (p) { var xx = (p.ts - start) / (end - start) * W; hb.appendChild(sv("line", { x1: xx, x2: xx, y1: 1, y2: 7, stroke: "var(--ping)" })); });
    s.pongs.forEach(function (p) { var xx = (p.ts - start) / (end - start) * W; hb.appendChild(sv("line", { x1: xx, x2: xx, y1: 7, y2: 13, stroke: "var(--pong)" })); });
    missedDeadlines(s).forEach(function (t) { var xx = (t - start) / (end - start) * W; hb.appendChild(sv("text", { x: xx, y: 12, fill: "var(--abnormal)", "text-anchor": "middle" }, "✕")); });
    var cause = f.end ? f.end.cause : "?";
    return el("div", { "class": "card", "data-sid": f.sid },
      el("div", null, el("b", null, short(f.sid)), " ", el("span", { style: "color:" + endColor(cause) }, cause),
        el("span", { "class": "sub" }, " · " + s.msgs.length + " Socket.IO packets in " + (end - start).toFixed(2) + " s · " + s.pings.length + " pings, " + s.pongs.length + " pongs")),
      el("div", { "class": "note" }, "packets per interval (c2s up, s2c down)"), rate,
      el("div", { "class": "note" }, "packet size (log scale, largest " + smax + ")"), sizes,
      el("div", { "class": "note" }, "heartbeat: ping ▲ pong ▼ ✕ missed"), hb);
  }

  function packetTable(ci, events, causeOfSid, t0) {
    var filt = { sid: "", nsp: "", event: "", cause: "" };
    var rows = [], highlight = -1;
    function sidOf(e) { return (e.eio && e.eio.sid) || e.sid || ""; }
    function apply() {
      rows = [];
      for (var i = 0; i < events.length; i++) {
        var e = events[i], sid = sidOf(e);
        if (filt.sid && sid.indexOf(filt.sid) < 0) continue;
        if (filt.nsp && !(e.sio && e.sio.nsp === filt.nsp)) continue;
        if (filt.event && !(e.sio && e.sio.event && e.sio.event.indexOf(filt.event) >= 0)) continue;
        if (filt.cause && causeOfSid[sid] !== filt.cause) continue;
        rows.push(i);
      }
      count.textContent = rows.length + " of " + events.length + " packets";
      spacer.style.height = rows.length * ROW + "px";
      draw();
    }
    function input(key, ph) {
      var i = el("input", { placeholder: ph, "data-filter": key, size: key === "sid" ? 22 : 12 });
      i.addEventListener("input", function () { filt[key] = i.value.trim(); apply(); });
      return i;
    }
    var causes = {};
    Object.keys(causeOfSid).forEach(function (k) { causes[causeOfSid[k]] = 1; });
    var sel = el("select", { "data-filter": "cause" }, el("option", { value: "" }, "any cause"),
      Object.keys(causes).sort().map(function (c) { return el("option", { value: c }, c); }));
    sel.addEventListener("change", function () { filt.cause = sel.value; apply(); });
    var inputs = { sid: input("sid", "sid"), nsp: input("nsp", "namespace (/chat)"), event: input("event", "event") };
    var count = el("span", { "class": "note" });
    var head = el("div", { "class": "thead" }, ["time", "frame", "session", "dir", "layer", "type", "namespace", "event / detail", "size"].map(function (h) { return el("span", null, h); }));
    var spacer = el("div", { style: "position:relative" });
    var vp = el("div", { "class": "viewport" }, spacer);
    var pending = false;
    vp.addEventListener("scroll", function () { if (!pending) { pending = true; requestAnimationFrame(function () { pending = false; draw(); }); } });
    function cell(t, title) { return el("span", title ? { title: title } : null, t); }
    function draw() {
      var first = Math.max(0, Math.floor(vp.scrollTop / ROW) - 10), last = Math.min(rows.length, first + Math.ceil(vp.clientHeight / ROW) + 30);
      spacer.textContent = "";
      for (var r = first; r < last; r++) {
        var e = events[rows[r]], sid = sidOf(e);
        var type = e.sio ? e.sio.type : e.eio ? e.eio.type : e.kind || e.rule || "";
        var detail = e.sio ? (e.sio.event ? JSON.stringify(e.sio.event) : "") + (e.sio.id !== undefined ? " ack " + e.sio.id : "")
          : e.layer === "anomaly" ? e.detail : e.layer === "ws" && e.kind === "close" ? "close " + (e.code !== undefined ? e.code : "(no code)") + (e.code_name ? " " + e.code_name : "")
          : e.layer === "http" ? (e.status ? e.status + " " + (e.reason || "") : (e.method || "") + " " + (e.target || "")) : e.eio && e.eio.text ? e.eio.text : "";
        var row = el("div", { "class": "row" + (e.frame === highlight ? " hl" : "") + (e.layer === "anomaly" ? " anomaly" : ""), style: "top:" + r * ROW + "px", "data-frame": e.frame },
          cell(fmtS(e.ts - t0)), cell("#" + e.frame), cell(short(sid), sid), cell(e.dir || ""), cell(e.layer), cell(type),
          cell(e.sio ? e.sio.nsp : ""), cell(detail, detail), cell(String(sizeOf(e))));
        row.addEventListener("click", (function (s) { return function () { if (s) { inputs.sid.value = s; filt.sid = s; apply(); } }; })(sid));
        spacer.appendChild(row);
      }
    }
    function clear() { filt = { sid: "", nsp: "", event: "", cause: "" }; Object.keys(inputs).forEach(function (k) { inputs[k].value = ""; }); sel.value = ""; }
    var node = el("div", null, el("div", { "class": "filters" }, inputs.sid, inputs.nsp, inputs.event, sel, count),
      el("div", { "class": "table", id: "c" + ci + "-table" }, head, vp));
    setTimeout(apply, 0);
    apply();
    return {
      node: node,
      setSid: function (s) { inputs.sid.value = s; filt.sid = s; apply(); },
      setCause: function (c) { sel.value = c; filt.cause = c; apply(); },
      goto: function (frame) {
        var find = function () { for (var r = 0; r < rows.length; r++) if (events[rows[r]].frame >= frame) return r; return -1; };
        var r = find();
        if (r < 0 || events[rows[r]].frame !== frame) { clear(); apply(); r = find(); }
        if (r < 0) r = rows.length - 1;
        highlight = r >= 0 ? events[rows[r]].frame : -1;
        node.scrollIntoView({ block: "start" });
        vp.scrollTop = Math.max(0, r * ROW - 4 * ROW);
        draw();
      }
    };
  }
})();
