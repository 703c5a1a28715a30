// sioscope report page: a view of the JSON embedded in this file (decode events and the explain
// document of each capture), drawn as plain SVG and DOM. No library, no network.
(function () {
  "use strict";
  var SVGNS = "http:" + "//www.w3.org/2000/svg";
  var ROW = 20;
  // Findings open at first (abnormal ones come first); the others are built when opened.
  var OPEN_FINDINGS = 40;

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
  // What is drawn first (summary, causes, timeline of every capture), then the rest in later
  // tasks, so the browser paints the overview before it builds findings, charts and the table.
  var later = [], jobs = [];
  document.documentElement.setAttribute("data-drawing", "");
  caps.forEach(function (cap, ci) { views.push(renderCapture(cap, ci)); });
  // Milliseconds from navigation start until the overview was drawn (docs/report.md measures it).
  document.documentElement.setAttribute("data-render-ms", String(Math.round(performance.now())));
  function runLater() {
    var job = later.shift();
    if (!job) {
      document.documentElement.setAttribute("data-drawn-ms", String(Math.round(performance.now())));
      document.documentElement.removeAttribute("data-drawing");
      openHash();
      window.addEventListener("hashchange", openHash);
      return;
    }
    var t = performance.now();
    job.run();
    jobs.push(job.name + " " + Math.round(performance.now() - t));
    document.documentElement.setAttribute("data-jobs-ms", jobs.join(", "));
    setTimeout(runLater, 0);
  }
  // After the next frame when the browser draws frames; a headless screenshot may draw none
  // before it is taken, so a timer starts the rest too (whichever comes first).
  var started = false;
  function start() { if (!started) { started = true; setTimeout(runLater, 0); } }
  requestAnimationFrame(start);
  setTimeout(start, 50);

  // `report.html#c0-f33` opens frame 33 of the first capture in its packet table.
  function openHash() {
    var m = /^#c(\d+)-f(\d+)$/.exec(location.hash);
    var v = m && views[+m[1]];
    if (v && v.table) v.table.goto(+m[2]);
  }

  document.addEventListener("click", function (e) {
    var a = e.target.closest ? e.target.closest("a.frame") : null;
    if (!a) return;
    e.preventDefault();
    var v = views[+a.getAttribute("data-cap")];
    if (v && v.table) v.table.goto(+a.getAttribute("data-frame"));
  });

  // The packet index of a capture, column by column (src/report/html/columns.rs).
  function index(block) {
    var C = (block && block.columns) || { n: 0, t0: 0, ts: [], frame: [], conn: [], dir: [], layer: [], layers: [],
      sid: [], kind: [], transport: [], nsp: [], event: [], detail: [], size: [], ping_timeout: {}, strings: [""] };
    var S = C.strings;
    // Times and frames are written as differences to the previous event's: sum them up.
    var T = new Float64Array(C.n), F = new Float64Array(C.n), tacc = 0, facc = 0;
    for (var i = 0; i < C.n; i++) { tacc += C.ts[i]; facc += C.frame[i]; T[i] = tacc; F[i] = facc; }
    var DIRS = ["", "c2s", "s2c"], TRS = ["", "polling", "websocket"];
    return {
      n: C.n, C: C, detail: (block && block.detail) || { runs: [], cut: [], budget: 0 },
      ts: function (i) { return C.t0 + T[i] / 1e6; },
      frame: function (i) { return F[i]; },
      conn: function (i) { return C.conn[i]; },
      dir: function (i) { return DIRS[C.dir[i]]; },
      layer: function (i) { return C.layers[C.layer[i]]; },
      sid: function (i) { return S[C.sid[i]]; },
      type: function (i) { return S[C.kind[i]]; },
      transport: function (i) { return TRS[C.transport[i]]; },
      nsp: function (i) { return S[C.nsp[i]]; },
      event: function (i) { return S[C.event[i]]; },
      text: function (i) { return S[C.detail[i]]; },
      size: function (i) { return C.size[i] < 0 ? "" : C.size[i]; },
      pingTimeout: function (sid) { return C.ping_timeout[sid] || null; }
    };
  }

  function renderCapture(cap, ci) {
    var ex = cap.explain || {};
    var ix = index(cap.events);
    var n = ix.n;
    var sessions = ex.sessions || [];
    var root = el("section", { "class": "capture", id: "capture-" + ci });
    app.appendChild(root);

    // Time range and per-session facts from the packet index.
    var t0 = Infinity, t1 = -Infinity;
    if (n) { t0 = ix.ts(0); t1 = ix.ts(n - 1); }
    var bySid = {};
    sessions.forEach(function (f) {
      bySid[f.sid] = { f: f, pings: [], pongs: [], msgs: [], logs: [], wsFirst: null, pingTimeout: ix.pingTimeout(f.sid) };
      var s = f.start && f.start.ts, e = f.end && f.end.at && f.end.at.ts;
      if (s < t0) t0 = s;
      if (e > t1) t1 = e;
    });
    if (!isFinite(t0)) { t0 = 0; t1 = 1; }
    if (t1 <= t0) t1 = t0 + 1;
    var causeOfSid = {};
    sessions.forEach(function (f) { causeOfSid[f.sid] = f.end && f.end.cause; });
    for (var i = 0; i < n; i++) {
      var s = bySid[ix.sid(i)];
      if (!s) continue;
      var layer = ix.layer(i);
      if (layer !== "eio" && layer !== "sio") continue;
      var ts = ix.ts(i);
      if (s.wsFirst === null && ix.transport(i) === "websocket") s.wsFirst = ts;
      if (layer === "sio") { s.msgs.push(i); continue; }
      var type = ix.type(i);
      if (type === "ping" && ix.text(i) !== "probe") s.pings.push(ts);
      if (type === "pong" && ix.text(i) !== "probe") s.pongs.push(ts);
    }
    (ex.logs || []).forEach(function (tl) {
      (tl.lines || []).forEach(function (p) {
        var k = p.session && p.session.session;
        var f = typeof k === "number" ? sessions[k] : null;
        if (f && bySid[f.sid] && typeof p.at === "number") bySid[f.sid].logs.push({ p: p, file: tl.file });
      });
    });

    // Header and summary.
    var sum = ex.summary || {};
    root.appendChild(el("h1", null, ex.capture || ("capture " + (ci + 1))));
    root.appendChild(el("div", { "class": "sub" },
      (sum.sessions !== undefined ? sum.sessions : sessions.length) + " Engine.IO sessions · " +
      (sum.abnormal !== undefined ? sum.abnormal : "?") + " abnormal · " +
      (typeof sum.duration === "number" ? sum.duration.toFixed(1) + " s" : "") + " · " +
      n + " packets in the table"));
    var view = { table: null }; // the packet table, drawn later; chips and the timeline filter it
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
        if (view.table) view.table.setCause(on ? c : "");
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
      root.appendChild(lazyGeneric(o, ci, "the rest of the summary (" + extra.join(", ") + ")"));
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
      (ex.logs && ex.logs.length) ? el("span", null, el("i", { style: "background:var(--log)" }), "log line") : null,
      el("span", null, el("i", { style: "background:#6b4fa8" }), "reconnect chain")));
    root.appendChild(timeline(ci, sessions, bySid, ex.chains || [], t0, t1, function (sid) {
      if (view.table) view.table.setSid(sid);
      var d = document.getElementById("c" + ci + "-s-" + sid);
      if (d) { d.open = true; d.scrollIntoView({ block: "nearest" }); }
    }));

    // The rest is drawn after the first paint, in order, into its own place.
    var slot = function () { var d = el("div"); root.appendChild(d); return d; };
    var findings = slot(), others = slot(), logs = slot(), chartsBox = slot(), tableBox = slot();
    later.push({ name: "findings", run: function () {
      findings.appendChild(el("h2", null, "Findings"));
      var order = sessions.slice().sort(function (a, b) {
        return (endClass(a.end && a.end.cause) === "abnormal" ? 0 : 1) - (endClass(b.end && b.end.cause) === "abnormal" ? 0 : 1);
      });
      var frag = document.createDocumentFragment();
      order.forEach(function (f, k) { frag.appendChild(finding(f, ci, t0, k < OPEN_FINDINGS)); });
      findings.appendChild(frag);
    } });
    later.push({ name: "chains", run: function () { drawOthers(others); } });
    if (ex.logs && ex.logs.length) later.push({ name: "logs", run: function () { logSection(logs, ex.logs, sessions, ci, t0); } });
    later.push({ name: "charts", run: function () { drawCharts(chartsBox); } });
    later.push({ name: "table", run: function () {
      tableBox.appendChild(el("h2", null, "Packets"));
      view.table = packetTable(ci, ix, causeOfSid, t0);
      tableBox.appendChild(view.table.node);
    } });
    return view;

    function drawOthers(root) {
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
    var knownTop = { capture: 1, summary: 1, sessions: 1, chains: 1, sessionless_errors: 1, logs: 1 };
    Object.keys(ex).filter(function (k) { return !knownTop[k]; }).forEach(function (k) {
      root.appendChild(el("h2", null, k.replace(/_/g, " ")));
      root.appendChild(lazyGeneric(ex[k], ci));
    });
    }

    // Charts per session.
    function drawCharts(root) {
    root.appendChild(el("h2", null, "Messages and heartbeats per session"));
    var charts = el("div", { "class": "charts" });
    var shown = sessions.filter(function (f, i) { return i < 60 || endClass(f.end && f.end.cause) === "abnormal"; }).slice(0, 120);
    shown.forEach(function (f) { charts.appendChild(chartCard(bySid[f.sid], ix)); });
    root.appendChild(charts);
    if (shown.length < sessions.length) root.appendChild(el("p", { "class": "note" }, "charts of " + shown.length + " of " + sessions.length + " sessions (the first 60 and abnormal ones)"));
    }
  }

  function missedDeadlines(s) {
    var out = [];
    if (!s || !s.pingTimeout) return out;
    var endTs = s.f.end && s.f.end.at ? s.f.end.at.ts : Infinity;
    var k = 0;
    s.pings.forEach(function (p) {
      var deadline = p + s.pingTimeout / 1000;
      while (k < s.pongs.length && s.pongs[k] < p) k++;
      var answered = k < s.pongs.length && s.pongs[k] <= deadline;
      // A ping whose deadline falls after the session ended was not missed: the session was gone.
      if (!answered && deadline <= endTs + 0.001) out.push(deadline);
    });
    return out;
  }

  // Ticks at the given times as one path (a path per kind, not an element per tick).
  function ticks(times, x, y0, y1, color, max) {
    if (!times.length) return null;
    var d = [], step = Math.max(1, Math.ceil(times.length / (max || 4000)));
    for (var i = 0; i < times.length; i += step) d.push("M" + x(times[i]).toFixed(1) + " " + y0 + "V" + y1);
    return sv("path", { d: d.join(""), stroke: color, "stroke-width": 1.2, fill: "none" });
  }

  function logText(p) {
    var l = p.log || {};
    return (l.namespace ? l.namespace + " " : "") + (l.text || "").split("\n")[0];
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
        (f.end && f.end.reason ? " · server: " + f.end.reason : "") + (f.end && f.end.client_reason ? " · client: " + f.end.client_reason + (f.end.client_reason_if ? " " + f.end.client_reason_if + ", else nothing" : "") : "");
      var grp = sv("g", { "class": "sess", "data-sid": f.sid, "data-cause": cause }, sv("title", null, tip));
      grp.addEventListener("click", function () { onPick(f.sid); });
      grp.appendChild(sv("text", { x: 14, y: yb + 10 }, short(f.sid) + "  EIO" + (f.eio === null ? "0.9" : f.eio) + "  " +
        (f.sockets || []).map(function (k) { return k.nsp; }).filter(function (v, i, a) { return a.indexOf(v) === i; }).join(" ")));
      segs.forEach(function (sg) {
        var x1 = x(sg[1]), x2 = Math.max(x(sg[2]), x1 + 1.5);
        grp.appendChild(sv("rect", { "class": "seg", x: x1, y: sg[3] ? yb + 3 : yb, width: x2 - x1, height: sg[3] ? hb - 6 : hb, rx: 2, fill: "var(--" + sg[0] + ")" }));
      });
      if (s) {
        add(grp, ticks(s.pings, x, yb - 5, yb, "var(--ping)", 400));
        add(grp, ticks(s.pongs, x, yb + hb, yb + hb + 5, "var(--pong)", 400));
        missedDeadlines(s).slice(0, 50).forEach(function (t) {
          grp.appendChild(sv("text", { x: x(t), y: yb - 1, "text-anchor": "middle", fill: "var(--abnormal)", "font-weight": 700 }, "✕"));
        });
        // Log lines tied to the session: a tick each under the bar, the line on hover.
        s.logs.slice(0, 300).forEach(function (lp) {
          var lx = x(lp.p.at);
          grp.appendChild(sv("rect", { "class": "logmark", x: lx - 1.5, y: yb + hb + 1, width: 3, height: 8, fill: "var(--log)",
            "data-log-line": lp.p.log ? lp.p.log.line : "" }, sv("title", null, lp.file + ":" + (lp.p.log ? lp.p.log.line : "?") + " " + logText(lp.p))));
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
      if (Array.isArray(x)) {
        var shown = x.slice(0, GENERIC_ITEMS).map(function (y) { return el("div", null, "• ", walk(y)); });
        if (x.length > GENERIC_ITEMS) shown.push(el("div", { "class": "note" }, "… and " + (x.length - GENERIC_ITEMS) + " more (explain --format json has them all)"));
        return el("div", null, shown);
      }
      return el("div", null, Object.keys(x).map(function (k) {
        return el("div", { style: "margin-left:10px" }, k + ": ", walk(x[k], k));
      }));
    }
    return el("div", { "class": "generic" }, walk(v));
  }

  // Items of a JSON array drawn generically; a long list (hop findings) says how many more.
  var GENERIC_ITEMS = 100;

  // A generic section, collapsed with its size, drawn when opened.
  function lazyGeneric(v, ci, title) {
    var n = Array.isArray(v) ? v.length + " items" : v && typeof v === "object" ? Object.keys(v).length + " keys" : "";
    var d = el("details", { "class": "lazy" }, el("summary", null, title || n || "show"));
    var built = false;
    d.addEventListener("toggle", function () { if (d.open && !built) { built = true; d.appendChild(generic(v, ci)); } });
    // A short one (a few refusals, the rule order) is shown open.
    var items = Array.isArray(v) ? v.length : v && typeof v === "object" ? Object.keys(v).length : 0;
    if (!title && items <= 20 && JSON.stringify(v).length < 1500) { built = true; d.appendChild(generic(v, ci)); d.open = true; }
    return d;
  }

  function finding(f, ci, t0, open) {
    var end = f.end || {}, cause = end.cause || "unknown", cls = endClass(cause);
    var cert = certaintyOf(end);
    var d = el("details", { "class": "finding " + cls, id: "c" + ci + "-s-" + f.sid, "data-sid": f.sid, "data-cause": cause });
    d.appendChild(el("summary", null, cls === "clean" ? "✓ " : cls === "abnormal" ? "✗ " : "● ",
      el("b", null, f.sid), "  ", el("span", { "class": "cause" }, cause),
      cert ? el("span", { "class": "certainty" }, cert) : null,
      end.reason ? "  server: \"" + end.reason + "\"" : "", end.client_reason ? " · client: \"" + end.client_reason + "\"" + (end.client_reason_if ? " " + end.client_reason_if + ", else nothing" : "") : "",
      el("span", { "class": "sub" }, "  " + f.client + " · EIO " + (f.eio === null ? "0.9" : f.eio) + " · " + (f.transports || []).join(" → ") +
        " · ended " + (end.at ? fmtS(end.at.ts - t0) : "?") + " by " + (end.initiator || "?"))));
    var built = false;
    function build() {
      if (built) return;
      built = true;
      d.appendChild(findingBody(f, ci, t0));
    }
    d.addEventListener("toggle", function () { if (d.open) build(); });
    if (open && cls === "abnormal") { build(); d.open = true; }
    return d;
  }

  function findingBody(f, ci, t0) {
    var end = f.end || {};
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
    var knownEnd = { at: 1, cause: 1, reason: 1, client_reason: 1, client_reason_if: 1, initiator: 1, evidence: 1, explanation: 1, fix: 1, certainty: 1, certainty_reason: 1 };
    var o = {}, any = false;
    Object.keys(end).forEach(function (k) { if (!knownEnd[k]) { o[k] = end[k]; any = true; } });
    if (any) b.appendChild(generic(o, ci));
    return b;
  }

  // The logs given with --log: what each held and how it was placed, then its lines in order.
  function logSection(root, logs, sessions, ci, t0) {
    root.appendChild(el("h2", null, "Logs"));
    logs.forEach(function (tl) {
      var lines = tl.lines || [];
      var tied = lines.filter(function (p) { return p.session && typeof p.session.session === "number"; }).length;
      var box = el("details", { "class": "logfile", "data-log-file": tl.file },
        el("summary", null, el("b", null, tl.file), " · " + lines.length + " lines, " + tied + " tied to a session · " +
          (typeof tl.offset_ms === "number" ? "log clock " + (tl.offset_ms >= 0 ? "+" : "") + tl.offset_ms.toFixed(1) + " ms against the capture (" + tl.matched + " matched)" : "no clock offset found (no line names a session's sid)")));
      var MAX = 2000;
      var table = el("table", { "class": "marks loglines" }, lines.slice(0, MAX).map(function (p) {
        var k = p.session && p.session.session, f = typeof k === "number" ? sessions[k] : null;
        return el("tr", { "data-log-line": p.log ? p.log.line : "", "data-log-sid": f ? f.sid : "" },
          el("td", null, String(p.log ? p.log.line : "")),
          el("td", null, typeof p.at === "number" ? fmtS(p.at - t0) : "—"),
          el("td", null, f ? short(f.sid) + (p.session.by === "only-open" ? " (only open)" : "") : ""),
          el("td", null, logText(p)));
      }));
      box.appendChild(table);
      if (lines.length > MAX) box.appendChild(el("p", { "class": "note" }, "the first " + MAX + " of " + lines.length + " lines"));
      root.appendChild(box);
    });
  }

  function chartCard(s, ix) {
    var f = s.f, W = 400, H = 54;
    var start = f.start ? f.start.ts : 0, end = f.end && f.end.at ? f.end.at.ts : start + 1;
    if (end <= start) end = start + 0.001;
    var N = 50, up = new Array(N).fill(0), down = new Array(N).fill(0), max = 1;
    var bucket = function (t) { return Math.min(N - 1, Math.max(0, Math.floor((t - start) / (end - start) * N))); };
    s.msgs.forEach(function (i) {
      var k = bucket(ix.ts(i));
      if (ix.dir(i) === "c2s") up[k]++; else down[k]++;
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
    s.msgs.forEach(function (i) { var n = +ix.size(i) || 0; if (n > smax) smax = n; });
    var lmax = Math.log(smax + 1), dots = { c2s: [], s2c: [] };
    s.msgs.slice(0, 3000).forEach(function (i) {
      var n = +ix.size(i) || 0;
      var cx = (ix.ts(i) - start) / (end - start) * (W - 4) + 2, cy = H - 3 - Math.log(n + 1) / lmax * (H - 8);
      dots[ix.dir(i) === "c2s" ? "c2s" : "s2c"].push("M" + cx.toFixed(1) + " " + cy.toFixed(1) + "h0");
    });
    // Each dot a zero-length segment with round caps: one path per direction.
    if (dots.c2s.length) sizes.appendChild(sv("path", { d: dots.c2s.join(""), stroke: "var(--websocket)", "stroke-width": 4, "stroke-linecap": "round" }));
    if (dots.s2c.length) sizes.appendChild(sv("path", { d: dots.s2c.join(""), stroke: "var(--upgrade)", "stroke-width": 4, "stroke-linecap": "round" }));
    var hb = sv("svg", { viewBox: "0 0 " + W + " 14", width: W, height: 14 });
    var hx2 = function (t) { return (t - start) / (end - start) * W; };
    add(hb, ticks(s.pings, hx2, 1, 7, "var(--ping)"));
    add(hb, ticks(s.pongs, hx2, 7, 13, "var(--pong)"));
    missedDeadlines(s).forEach(function (t) { hb.appendChild(sv("text", { x: hx2(t), y: 12, fill: "var(--abnormal)", "text-anchor": "middle" }, "✕")); });
    var cause = f.end ? f.end.cause : "?";
    return el("div", { "class": "card", "data-sid": f.sid },
      el("div", null, el("b", null, short(f.sid)), " ", el("span", { style: "color:" + endColor(cause) }, cause),
        el("span", { "class": "sub" }, " · " + s.msgs.length + " Socket.IO packets in " + (end - start).toFixed(2) + " s · " + s.pings.length + " pings, " + s.pongs.length + " pongs")),
      el("div", { "class": "note" }, "packets per interval (c2s up, s2c down)"), rate,
      el("div", { "class": "note" }, "packet size (log scale, largest " + smax + ")"), sizes,
      el("div", { "class": "note" }, "heartbeat: ping ▲ pong ▼ ✕ missed"), hb);
  }

  // The whole events of a capture, inflated a run at a time when a packet is opened
  // (src/report/html/detail.rs): each run is the `decode --format ndjson` lines of its events.
  function wholeEvents(ci, D) {
    var runs = {};
    function runOf(i) {
      var lo = 0, hi = D.runs.length - 1, k = -1;
      while (lo <= hi) { var m = (lo + hi) >> 1; if (D.runs[m] <= i) { k = m; lo = m + 1; } else hi = m - 1; }
      return k;
    }
    function inflate(k) {
      if (runs[k]) return runs[k];
      var node = document.getElementById("c" + ci + "-r" + k);
      if (!node) return Promise.reject(new Error("the page is still loading its packets; try again in a moment"));
      var bin = atob(node.textContent), u = new Uint8Array(bin.length);
      for (var j = 0; j < bin.length; j++) u[j] = bin.charCodeAt(j);
      var stream = new Blob([u]).stream().pipeThrough(new DecompressionStream("deflate-raw"));
      runs[k] = new Response(stream).text().then(function (t) { return t.split("\n"); });
      return runs[k];
    }
    var cut = {};
    (D.cut || []).forEach(function (i) { cut[i] = 1; });
    return {
      // Promise of {json, cut} for event i, or of null when the report did not keep it.
      get: function (i) {
        var k = runOf(i);
        if (k < 0) return Promise.resolve(null);
        return inflate(k).then(function (lines) {
          var line = lines[i - D.runs[k]];
          return line ? { json: JSON.parse(line), cut: !!cut[i] } : null;
        });
      },
      budget: D.budget
    };
  }

  function mib(n) { return n >= 1048576 ? +(n / 1048576).toFixed(1) + " MiB" : Math.round(n / 1024) + " KiB"; }

  function packetTable(ci, ix, causeOfSid, t0) {
    var filt = { sid: "", nsp: "", event: "", cause: "" };
    var rows = [], highlight = -1, selected = -1;
    var whole = wholeEvents(ci, ix.detail);
    function apply() {
      rows = [];
      for (var i = 0; i < ix.n; i++) {
        if (filt.sid && ix.sid(i).indexOf(filt.sid) < 0) continue;
        if (filt.nsp && !(ix.layer(i) === "sio" && ix.nsp(i) === filt.nsp)) continue;
        if (filt.event && !(ix.layer(i) === "sio" && ix.event(i).indexOf(filt.event) >= 0)) continue;
        if (filt.cause && causeOfSid[ix.sid(i)] !== filt.cause) continue;
        rows.push(i);
      }
      count.textContent = rows.length + " of " + ix.n + " packets";
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
    var pane = el("div", { "class": "packet", "data-packet": "" },
      el("p", { "class": "note" }, "Click a packet to see it whole (its `decode --format ndjson` line); click its session to filter by it."));
    function show(i) {
      selected = i;
      draw();
      pane.setAttribute("data-packet", String(ix.frame(i)));
      pane.textContent = "";
      pane.appendChild(el("div", null, el("b", null, "frame #" + ix.frame(i)), " · " + fmtS(ix.ts(i) - t0) + " · " + ix.layer(i) + " " + ix.type(i)));
      var body = el("pre", { "class": "whole" }, "inflating…");
      pane.appendChild(body);
      whole.get(i).then(function (w) {
        if (selected !== i) return;
        if (!w) {
          body.textContent = "";
          pane.appendChild(el("p", { "class": "note cutnote" }, "This packet is not in the report."));
          return;
        }
        var text = JSON.stringify(w.json, null, 2);
        var LIMIT = 4 << 20;
        body.textContent = text.length > LIMIT ? text.slice(0, LIMIT) : text;
        if (text.length > LIMIT) {
          var more = el("button", null, "show the remaining " + (text.length - LIMIT) + " characters");
          more.addEventListener("click", function () { body.textContent = text; more.remove(); });
          pane.appendChild(more);
        }
        if (w.cut) pane.appendChild(el("p", { "class": "note cutnote", "data-cut-packet": ix.frame(i) }, "Payloads cut to a preview and their length (_truncated): packets over 2 KiB are kept whole up to " +
          mib(whole.budget) + " of their JSON in all (sioscope report --max-detail), and that was used up before this one. " +
          "`sioscope decode --format json` on the capture shows it whole, or write the report again with a larger --max-detail."));
      }, function (err) { body.textContent = String(err && err.message || err); });
    }
    function draw() {
      var first = Math.max(0, Math.floor(vp.scrollTop / ROW) - 10), last = Math.min(rows.length, first + Math.ceil(vp.clientHeight / ROW) + 30);
      spacer.textContent = "";
      for (var r = first; r < last; r++) {
        var i = rows[r], sid = ix.sid(i), layer = ix.layer(i);
        var detail = ix.text(i);
        var frame = ix.frame(i);
        var row = el("div", { "class": "row" + (frame === highlight ? " hl" : "") + (i === selected ? " sel" : "") + (layer === "anomaly" ? " anomaly" : ""), style: "top:" + r * ROW + "px", "data-frame": frame },
          cell(fmtS(ix.ts(i) - t0)), cell("#" + frame), el("span", { "class": "sidcell", title: sid ? "show only " + sid : "" }, short(sid)), cell(ix.dir(i)), cell(layer), cell(ix.type(i)),
          cell(layer === "sio" ? ix.nsp(i) : ""), cell(detail, detail), cell(String(ix.size(i))));
        row.addEventListener("click", (function (i, s) {
          return function (e) {
            if (s && e.target.classList && e.target.classList.contains("sidcell")) { inputs.sid.value = s; filt.sid = s; apply(); return; }
            show(i);
          };
        })(i, sid));
        spacer.appendChild(row);
      }
    }
    function clear() { filt = { sid: "", nsp: "", event: "", cause: "" }; Object.keys(inputs).forEach(function (k) { inputs[k].value = ""; }); sel.value = ""; }
    var D = ix.detail, ncut = (D.cut || []).length;
    var note = el("span", { "class": ncut ? "note cutnote" : "note", "data-cut": ncut },
      !ncut ? "every packet kept whole: click one to see it" :
        (ix.n - ncut) + " packets kept whole, " + ncut + " with their payloads cut (packets over 2 KiB are kept whole up to " + mib(D.budget) + " of JSON, --max-detail)");
    var node = el("div", null, el("div", { "class": "filters" }, inputs.sid, inputs.nsp, inputs.event, sel, count, note),
      el("div", { "class": "table", id: "c" + ci + "-table" }, head, vp), pane);
    setTimeout(apply, 0);
    apply();
    return {
      node: node,
      show: show,
      setSid: function (s) { inputs.sid.value = s; filt.sid = s; apply(); },
      setCause: function (c) { sel.value = c; filt.cause = c; apply(); },
      goto: function (frame) {
        var find = function () { for (var r = 0; r < rows.length; r++) if (ix.frame(rows[r]) >= frame) return r; return -1; };
        var r = find();
        if (r < 0 || ix.frame(rows[r]) !== frame) { clear(); apply(); r = find(); }
        if (r < 0) r = rows.length - 1;
        highlight = r >= 0 ? ix.frame(rows[r]) : -1;
        node.scrollIntoView({ block: "start" });
        vp.scrollTop = Math.max(0, r * ROW - 4 * ROW);
        draw();
        if (r >= 0) show(rows[r]);
      }
    };
  }
})();
