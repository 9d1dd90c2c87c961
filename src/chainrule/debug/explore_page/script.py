"""The explore page's script: the step control, the panels, hovers, modules and the doctor view.

Plain JavaScript, no library. It reads the page's data from the
``explore-data`` element, finds Graphviz's drawn nodes by their titles
(``n0``, ``n1``, ... as ``draw_graph`` names them) and redraws the panels
for the step the slider is on.
"""

__all__ = ["SCRIPT"]

SCRIPT = r"""
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("explore-data").textContent);
  var $ = function (id) { return document.getElementById(id); };
  var N = D.steps.length, k = 0, timer = null;

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var a in attrs || {}) { if (attrs[a] !== null && attrs[a] !== undefined) e.setAttribute(a, attrs[a]); }
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }

  // ---------------------------------------------------------------- the drawings
  // Two views of one graph: every node ("expanded"), or each module as one box ("collapsed").
  function scan(box) {
    var svg = box.querySelector("svg"), v = {box: box, svg: svg, gNode: {}, edges: [], gCluster: {},
      gradText: {}, collapsed: box.id === "view-collapsed"};
    v.natural = [parseFloat(svg.getAttribute("width")) * 4 / 3, parseFloat(svg.getAttribute("height")) * 4 / 3];
    svg.querySelectorAll("g.node").forEach(function (g) {
      var t = g.querySelector("title"); if (!t) return;
      var id = t.textContent.trim(); v.gNode[id] = g; g.setAttribute("data-id", id); t.remove();
      g.querySelectorAll("text").forEach(function (text) {
        if (/^grad /.test(text.textContent)) v.gradText[id] = text;
      });
    });
    svg.querySelectorAll("g.edge").forEach(function (g) {
      var t = g.querySelector("title"); if (!t) return;
      var ends = t.textContent.split("->"); t.remove();
      v.edges.push({g: g, tail: ends[0].trim(), head: ends[1].trim()});
    });
    svg.querySelectorAll("g.cluster").forEach(function (g) {
      var t = g.querySelector("title"); if (!t) return;
      v.gCluster[t.textContent.replace("cluster_", "")] = g; t.remove();
    });
    svg.querySelectorAll("title").forEach(function (t) { t.remove(); });
    svg.querySelectorAll("a").forEach(function (a) {
      a.removeAttributeNS("http://www.w3.org/1999/xlink", "title"); a.removeAttribute("title");
    });
    return v;
  }
  var views = Array.prototype.map.call(document.querySelectorAll("#graph .view"), scan);
  var expanded = views.filter(function (v) { return !v.collapsed; })[0] || null;
  var small = views.filter(function (v) { return v.collapsed; })[0] || null;
  var active = null;
  function shown(v, id) {  // where a drawn node is in a view: itself, or its module's box
    return v.collapsed && D.moduleOf[id] !== undefined ? "m" + D.moduleOf[id] : id;
  }

  // ---------------------------------------------------------------- heat maps
  function heatCanvas(h, label) {
    var box = el("span", {"class": "heat-box"});
    if (!h) return box;
    var raw = atob(h.q), cell = Math.max(2, Math.floor(72 / Math.max(h.r, h.c)));
    var c = el("canvas", {"class": "heat", width: h.c * cell, height: h.r * cell});
    var ctx = c.getContext("2d");
    for (var i = 0; i < raw.length; i++) {
      var v = raw.charCodeAt(i); if (v > 127) v -= 256;
      var t = Math.abs(v) / 127, col;
      if (v === -128) col = [173, 181, 189];
      else if (v < 0) col = [255 - t * (255 - 33), 255 - t * (255 - 102), 255 - t * (255 - 172)];
      else col = [255 - t * (255 - 178), 255 - t * (255 - 24), 255 - t * (255 - 43)];
      ctx.fillStyle = "rgb(" + col.map(Math.round).join(",") + ")";
      ctx.fillRect((i % h.c) * cell, Math.floor(i / h.c) * cell, cell, cell);
    }
    box.appendChild(c); box.appendChild(el("br"));
    box.appendChild(document.createTextNode(label + " \u00b1" + h.s));
    return box;
  }

  // ---------------------------------------------------------------- running sums
  function sumsAt(step) {
    var out = [], at = {};
    for (var i = 0; i < step; i++) {
      D.steps[i].terms.forEach(function (term) {
        var s = at[term.target];
        if (!s) { s = at[term.target] = {target: D.targets[term.target], parts: [], total: null, last: 0};
                  out.push(s); }
        if (term.total) { s.parts.push(term.contribution); s.total = term.total; s.last = i + 1; }
      });
    }
    return out;
  }

  function sumText(s) {
    var t = s.target, name = t.name;
    if (!s.total) return name + ": no gradient flows";
    if (D.engine === "value") {
      var parts = s.parts.map(function (p) { return p.text; });
      if (t.before) parts.unshift(t.before.text + " (before)");
      return name + ".grad = " + parts.join(" + ") + (parts.length > 1 ? " = " + s.total.text : "");
    }
    var n = s.parts.length + (t.before ? 1 : 0);
    return name + ".grad = " + (n > 1 ? "sum of " + n + (t.before ? " (one from before)" : "") + ": " : "")
      + s.total.text;
  }

  function renderSums(sums) {
    var ul = $("sums"); ul.textContent = "";
    if (!sums.length) ul.appendChild(el("li", {"class": "hint"}, "nothing has arrived yet"));
    sums.forEach(function (s) {
      var t = s.target;
      var li = el("li", {"class": "sum" + (t.leaf ? " leaf" : "") + (s.last === k ? " fresh" : ""),
                          "data-name": t.name, "data-value": s.total ? s.total.value : null,
                          "data-ids": t.ids.join(" ")}, sumText(s));
      if (!t.leaf && t.passes_on_at)
        li.appendChild(el("span", {"class": "done-note"}, t.passes_on_at <= k
        ? "  (passed on at step #" + t.passes_on_at + ")"
        : "  (still arriving: runs at step #" + t.passes_on_at + ")"));
      ul.appendChild(li);
    });
  }

  function labelGrads(sums) {
    var current = {};
    sums.forEach(function (s) { if (s.total) s.target.ids.forEach(function (id) { current[id] = s.total; }); });
    views.forEach(function (v) {
      Object.keys(v.gradText).forEach(function (id) {
        var info = D.nodes[id], text = v.gradText[id];
        if (!info || info.target === null || info.target === undefined) return;
        var total = current[id], t = D.targets[info.target], shown;
        if (total) shown = total.values || total.text;
        else if (t.before) shown = t.before.values || t.before.text;
        else shown = D.engine === "value" ? "0" : "None";
        if (D.engine === "value" && /^-?\d+$/.test(shown)) shown += ".0";
        if (total && D.engine !== "value" && total.norm && !/^\[/.test(total.values))
          shown += " norm " + total.norm;
        text.textContent = "grad " + shown;
      });
    });
  }

  // ---------------------------------------------------------------- the step panel
  function renderStep() {
    var box = $("step"); box.textContent = ""; box.setAttribute("data-index", k);
    if (k === 0) {
      box.appendChild(el("h2", {}, "Before backward"));
      box.appendChild(el("p", {}, "The output's gradient is 1: d(out)/d(out). Each step takes one node, "
        + "in the order the engine ran them, and passes its gradient (upstream) on to each input:"));
      box.appendChild(el("p", {}, "contribution = upstream gradient \u00d7 local derivative"));
      box.appendChild(el("p", {"class": "hint"}, "Where paths meet, contributions add up. "
        + "Keys: \u2192 next, \u2190 previous, space play, Home / End. Hover a node for its numbers."));
      return;
    }
    var s = D.steps[k - 1];
    var h = el("h2", {});
    h.appendChild(el("span", {id: "step-node", "data-ids": s.ids.join(" ")}, s.label + "  " + s.op));
    if (s.function !== s.op) h.appendChild(el("small", {}, s.function));
    box.appendChild(h);
    if (s.value) box.appendChild(el("p", {id: "step-value"}, "value " + s.value.text));
    var up = el("p", {}, "upstream gradient d(out)/d(" + s.name + "): ");
    up.appendChild(el("b", {id: "upstream", "data-value": s.grad.value}, s.grad.text));
    box.appendChild(up);
    if (s.grad.heat) box.appendChild(heatCanvas(s.grad.heat, "upstream"));
    var r = el("p", {}, "rule: "); r.appendChild(el("code", {id: "rule"}, s.rule)); box.appendChild(r);
    if (D.engine !== "value") box.appendChild(el("p", {"class": "line"}, s.line));
    var ol = el("ol", {id: "terms"});
    s.terms.forEach(function (term) {
      var li = el("li", {"class": "term", "data-input": term.input, "data-value": term.contribution.value});
      if (D.engine === "value") li.appendChild(el("span", {"class": "term-input"}, term.input));
      if (term.clause) {
        li.appendChild(document.createTextNode(": "));
        li.appendChild(el("code", {"class": "term-rule"}, term.clause));
      }
      var text = term.input + " += " + (term.formula || term.contribution.text);
      li.appendChild(el("span", {"class": "term-contribution", "data-value": term.contribution.value}, text));
      if (term.contribution.heat) li.appendChild(heatCanvas(term.contribution.heat, "contribution"));
      ol.appendChild(li);
    });
    box.appendChild(ol);
  }

  // ---------------------------------------------------------------- highlights
  function highlight() {
    views.forEach(function (v) {
      Object.keys(v.gNode).forEach(function (id) {
        v.gNode[id].classList.remove("current", "receiving", "done");
      });
      v.edges.forEach(function (e) { e.g.classList.remove("flow"); });
      function mark(id, cls) { var g = v.gNode[shown(v, id)]; if (g) g.classList.add(cls); return shown(v, id); }
      for (var i = 0; i < k - 1; i++) D.steps[i].ids.forEach(function (id) { mark(id, "done"); });
      if (k === 0) return;
      var s = D.steps[k - 1], heads = {}, tails = {};
      s.terms.forEach(function (term) { term.ids.forEach(function (id) { tails[mark(id, "receiving")] = 1; }); });
      s.ids.forEach(function (id) {
        var g = v.gNode[shown(v, id)]; heads[shown(v, id)] = 1;
        if (g) { g.classList.remove("done", "receiving"); g.classList.add("current"); }
      });
      v.edges.forEach(function (e) { if (tails[e.tail] && heads[e.head]) e.g.classList.add("flow"); });
    });
  }

  function go(step) {
    k = Math.max(0, Math.min(N, step));
    $("slider").value = k; $("step-counter").textContent = k + " / " + N;
    var sums = sumsAt(k);
    renderStep(); renderSums(sums); labelGrads(sums); highlight();
    if (k === N) stop();
  }

  function stop() { if (timer) { clearInterval(timer); timer = null; } $("play").textContent = "\u25B6 play"; }
  function play() {
    if (timer) { stop(); return; }
    if (k === N) go(0);
    $("play").textContent = "\u275A\u275A pause";
    timer = setInterval(function () { go(k + 1); }, 900);
  }

  // ---------------------------------------------------------------- hovers
  var tip = $("tooltip");
  function hover(g, info) {
    g.addEventListener("mouseenter", function () {
      tip.textContent = ""; tip.appendChild(el("b", {}, info.title));
      info.lines.forEach(function (line) { tip.appendChild(el("div", {}, line)); });
      if (info.target !== null && info.target !== undefined) {
        var s = sumsAt(k).filter(function (x) { return x.target === D.targets[info.target]; })[0];
        tip.appendChild(el("div", {}, "at step " + k + ": "
          + (s && s.total ? "grad so far " + s.total.text : "nothing arrived yet")));
      }
      (info.heat || []).forEach(function (h) { tip.appendChild(heatCanvas(h.h, h.label)); });
      tip.hidden = false;
    });
    g.addEventListener("mousemove", function (ev) {
      tip.style.left = Math.max(4, Math.min(ev.clientX + 14, window.innerWidth - tip.offsetWidth - 8)) + "px";
      tip.style.top = Math.max(4, Math.min(ev.clientY + 14, window.innerHeight - tip.offsetHeight - 8)) + "px";
    });
    g.addEventListener("mouseleave", function () { tip.hidden = true; });
  }
  views.forEach(function (v) {
    Object.keys(v.gNode).forEach(function (id) {
      if (D.nodes[id]) hover(v.gNode[id], D.nodes[id]);
      else if (/^m\d+$/.test(id)) {
        var c = D.clusters[parseInt(id.slice(1), 10)];
        hover(v.gNode[id], {title: c.label, lines: ["a module: click to see its ops and parameters"]});
        v.gNode[id].addEventListener("click", function () { tip.hidden = true; show(expanded, c.key); });
      }
    });
  });

  // ---------------------------------------------------------------- views and modules
  function fit() {  // pt to px; fit the window, but never blow a small graph up more than maxScale
    if (!active) return;
    var on = $("graph").classList.contains("fit"), area = $("graph");
    var scale = !on ? 1 : Math.min((area.clientWidth - 24) / active.natural[0],
                                   (area.clientHeight - 24) / active.natural[1], D.maxScale);
    active.svg.setAttribute("width", active.natural[0] * scale + "px");
    active.svg.setAttribute("height", active.natural[1] * scale + "px");
  }
  function show(v, flashKey) {
    if (!v) return;
    active = v;
    views.forEach(function (w) { w.box.hidden = w !== v; });
    $("collapse-all").setAttribute("aria-pressed", v.collapsed ? "true" : "false");
    $("collapse-all").textContent = v.collapsed ? "expand modules" : "collapse modules";
    fit();
    if (flashKey !== undefined && v.gCluster[flashKey]) {
      var g = v.gCluster[flashKey]; g.classList.add("flash");
      if (g.scrollIntoView) g.scrollIntoView({block: "center", inline: "center"});
      setTimeout(function () { g.classList.remove("flash"); }, 1500);
    }
  }
  if (D.clusters.length) {
    var m = $("modules"); m.appendChild(el("h3", {}, "modules (click one to find it)"));
    var lists = {};
    D.clusters.forEach(function (c) {
      var parent = c.parent === null ? m : lists[c.parent];
      var ul = parent.querySelector(":scope > ul") || parent.appendChild(el("ul"));
      var li = ul.appendChild(el("li", {"data-key": c.key}));
      li.appendChild(el("span", {}, c.label));
      li.addEventListener("click", function (ev) { ev.stopPropagation(); show(expanded, c.key); });
      lists[c.key] = li;
    });
    if (small) {
      $("collapse-all").hidden = false;
      $("collapse-all").addEventListener("click", function () { show(active === small ? expanded : small); });
    }
  }

  // ---------------------------------------------------------------- the doctor
  // Each parameter coloured by its gradient norm on a log scale, blue (least) to orange (most).
  var ramp = [[145, 191, 219], [255, 255, 191], [252, 141, 89]];
  function colourOf(p) {
    var dr = D.doctor, norm = parseFloat(p.value), lo = Math.log10(dr.min), hi = Math.log10(dr.max);
    if (p.status === "no gradient") return "#ffffff";
    if (!(norm > 0)) return "#dee2e6";
    var t = hi > lo ? (Math.log10(norm) - lo) / (hi - lo) : 1;
    var x = Math.max(0, Math.min(1, t)) * 2, i = Math.min(1, Math.floor(x)), f = x - i;
    return "rgb(" + [0, 1, 2].map(function (j) {
      return Math.round(ramp[i][j] + f * (ramp[i + 1][j] - ramp[i][j]));
    }).join(",") + ")";
  }
  var saved = {};
  function doctorView(on) {  // parameters live inside modules: the expanded view shows them
    $("doctor-toggle").setAttribute("aria-pressed", on ? "true" : "false");
    if (on) show(expanded);
    D.doctor.params.forEach(function (p) {
      p.ids.forEach(function (id) {
        var g = expanded && expanded.gNode[id]; if (!g) return;
        var shape = g.querySelector("polygon, ellipse, path"); if (!shape) return;
        if (!(id in saved)) saved[id] = shape.getAttribute("fill");
        g.classList.toggle("no-grad", on && p.status === "no gradient");
        shape.setAttribute("fill", on ? colourOf(p) : saved[id]);
      });
    });
  }
  if (D.doctor) {
    var dr = D.doctor, box = $("doctor"), on = false;
    box.appendChild(el("h3", {}, "gradient doctor: " + dr.verdict));
    if (dr.min > 0) {
      var lg = box.appendChild(el("div", {}));
      lg.appendChild(el("span", {}, "|grad| " + dr.min_text + " "));
      lg.appendChild(el("span", {id: "legend", style: "display:inline-block"}));
      lg.appendChild(el("span", {}, " " + dr.max_text + " (log scale)"));
    }
    var table = box.appendChild(el("table", {id: "doctor-table"}));
    var head = table.appendChild(el("tr"));
    ["", "parameter", "|grad|", "status"].forEach(function (t) { head.appendChild(el("th", {}, t)); });
    dr.params.forEach(function (p) {
      var tr = table.appendChild(el("tr", {"class": "doctor-row", "data-name": p.name, "data-status": p.status}));
      var swatch = el("span", {"class": "swatch"});
      swatch.style.background = colourOf(p);
      tr.appendChild(el("td")).appendChild(swatch);
      [p.name, p.norm, p.status].forEach(function (t) { tr.appendChild(el("td", {}, t)); });
    });
    dr.flags.forEach(function (f) {
      var d = box.appendChild(el("div", {"class": "flag", "data-kind": f.kind, "data-name": f.name},
                                 f.kind + ": " + f.name + ": " + f.explanation));
      d.appendChild(el("div", {"class": "hint"}, "fix: " + f.fix));
    });
    dr.notes.forEach(function (n) { box.appendChild(el("p", {"class": "hint"}, n)); });
    $("doctor-toggle").hidden = false;
    $("doctor-toggle").addEventListener("click", function () { on = !on; doctorView(on); });
  }

  // ---------------------------------------------------------------- controls
  $("next").addEventListener("click", function () { stop(); go(k + 1); });
  $("prev").addEventListener("click", function () { stop(); go(k - 1); });
  $("first").addEventListener("click", function () { stop(); go(0); });
  $("last").addEventListener("click", function () { stop(); go(N); });
  $("play").addEventListener("click", play);
  $("slider").addEventListener("input", function () { stop(); go(parseInt($("slider").value, 10)); });
  $("fit").addEventListener("click", function () {
    var on = $("graph").classList.toggle("fit");
    $("fit").setAttribute("aria-pressed", on ? "true" : "false");
    fit();
  });
  window.addEventListener("resize", fit);
  document.addEventListener("keydown", function (ev) {
    if (ev.target && ev.target.id === "slider") return;  // the slider moves itself
    var keys = {ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1};
    if (ev.key in keys) { stop(); go(k + keys[ev.key]); }
    else if (ev.key === "Home") { stop(); go(0); }
    else if (ev.key === "End") { stop(); go(N); }
    else if (ev.key === " ") play();
    else return;
    ev.preventDefault();
  });
  show(D.collapsed ? small : expanded);
  go(0);
  window.chainruleExplore = {go: go, steps: N, ready: performance.now()};
})();
"""
