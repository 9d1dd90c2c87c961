"""The explore page's HTML skeleton and its style sheet; everything inline, nothing fetched."""

import html
import json

from chainrule.debug.explore_page.script import SCRIPT

__all__ = ["page"]

STYLE = """
:root { --current: #e8590c; --input: #1c7ed6; --done: #adb5bd; --ink: #212529; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif;
       color: var(--ink); background: #fff; height: 100vh; display: flex; flex-direction: column; }
header { display: flex; align-items: center; gap: 8px; padding: 6px 12px; background: #f1f3f5;
         border-bottom: 1px solid #dee2e6; flex-wrap: wrap; }
header h1 { font-size: 16px; margin: 0 8px 0 0; }
header .spacer { flex: 1; }
#summary { color: #495057; }
button { font: inherit; padding: 3px 9px; border: 1px solid #adb5bd; border-radius: 4px;
         background: #fff; cursor: pointer; }
button:hover { background: #e9ecef; }
button[aria-pressed="true"] { background: #ffe8cc; border-color: var(--current); }
main { flex: 1; display: flex; min-height: 0; }
#graph { flex: 1; overflow: auto; padding: 8px; min-width: 0; }
#graph .note { color: #c92a2a; }
#graph .view { text-align: center; }
#panel { width: 440px; overflow: auto; border-left: 1px solid #dee2e6; padding: 8px 12px;
         background: #fcfcfd; }
#controls { display: flex; flex-wrap: wrap; align-items: center; gap: 4px; position: sticky;
            top: -8px; background: #fcfcfd; padding: 6px 0; border-bottom: 1px solid #e9ecef;
            z-index: 1; }
#slider { flex: 1; min-width: 120px; }
#step-counter { font-variant-numeric: tabular-nums; min-width: 60px; text-align: right; }
#step h2 { font-size: 17px; margin: 10px 0 4px; }
#step h2 small { font-weight: normal; color: #495057; margin-left: 6px; }
#step p { margin: 4px 0; }
#step .line, .hint { color: #6c757d; font-size: 12px; }
code { background: #f1f3f5; padding: 1px 4px; border-radius: 3px; font-size: 13px; }
#terms { padding-left: 20px; }
.term { margin: 4px 0; }
.term-input { font-weight: 600; color: var(--input); }
.term-contribution { display: block; }
#sums { list-style: none; padding-left: 0; }
.sum { padding: 2px 6px; border-left: 3px solid transparent; font-variant-numeric: tabular-nums; }
.sum.leaf { border-left-color: #74c0fc; }
.sum.fresh { background: #fff4e6; border-left-color: var(--current); }
.sum .done-note { color: #868e96; font-size: 12px; }
canvas.heat { border: 1px solid #ced4da; image-rendering: pixelated; vertical-align: middle;
              margin: 2px 6px 2px 0; }
.heat-box { display: inline-block; text-align: center; font-size: 11px; color: #495057;
            margin-right: 12px; }
svg g.node, svg g.cluster { transition: opacity .15s; }
svg g.node.current :is(polygon, ellipse, path) { stroke: var(--current); stroke-width: 3px; }
svg g.node.receiving :is(polygon, ellipse, path) { stroke: var(--input); stroke-width: 2.5px; }
svg g.node.done { opacity: .55; }
svg g.edge.flow path { stroke: var(--current); stroke-width: 2.5px; }
svg g.edge.flow polygon { stroke: var(--current); fill: var(--current); }
svg g.node.module { cursor: pointer; }
svg g.cluster.flash > :is(path, polygon) { stroke: var(--current); stroke-width: 4px; }
#modules li { cursor: pointer; }
#modules li:hover > span { text-decoration: underline; }
svg g.node.no-grad :is(polygon, ellipse, path) { stroke: #c92a2a; stroke-width: 3px;
                                                    stroke-dasharray: 6 3; }
#tooltip { position: fixed; z-index: 10; max-width: 360px; background: #fff;
           border: 1px solid #adb5bd; border-radius: 6px; box-shadow: 0 2px 8px rgba(0,0,0,.18);
           padding: 6px 9px;
           pointer-events: none; font-size: 13px; }
#tooltip b { display: block; margin-bottom: 2px; }
#modules ul { list-style: none; padding-left: 14px; margin: 2px 0; }
#doctor table { border-collapse: collapse; font-size: 12px; }
#doctor td, #doctor th { padding: 1px 6px; text-align: left; }
#doctor .swatch { display: inline-block; width: 12px; height: 12px; border: 1px solid #868e96;
                  vertical-align: middle; }
#doctor .flag { color: #c92a2a; margin: 4px 0; }
#legend { height: 10px; width: 220px; border: 1px solid #adb5bd;
          background: linear-gradient(to right, #91bfdb, #ffffbf, #fc8d59); }
h3 { font-size: 14px; margin: 12px 0 4px; }
"""


def page(title, summary, views, note, data):
    """The whole page: ``views`` (``{"expanded": svg, "collapsed": svg}``, Graphviz's; empty with
    ``note`` saying why) and ``data`` (JSON for the script)."""
    graph = "".join(f'<div class="view" id="view-{name}" hidden>{svg}</div>'
                    for name, svg in views.items() if svg is not None)
    if not graph:
        graph = f'<p class="note">{html.escape(note or "")}</p>'
    payload = json.dumps(data, separators=(",", ":"), allow_nan=False).replace("</", "<\\/")
    steps = len(data["steps"])
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<link rel="icon" href="data:,">
<style>{STYLE}</style></head>
<body>
<header>
<h1>{html.escape(title)}</h1><span id="summary">{html.escape(summary)}</span>
<span class="spacer"></span>
<button id="fit" aria-pressed="true" title="fit the graph to the window">fit</button>
<button id="collapse-all" hidden aria-pressed="false">collapse modules</button>
<button id="doctor-toggle" aria-pressed="false" hidden>doctor view</button>
</header>
<main>
<section id="graph" class="fit">{graph}</section>
<aside id="panel">
<div id="controls">
<button id="first" title="first (Home)">&#xAB;</button>
<button id="prev" title="previous (&#x2190;)">&#x25C0; prev</button>
<button id="play" title="play (space)">&#x25B6; play</button>
<button id="next" title="next (&#x2192;)">next &#x25B6;</button>
<button id="last" title="last (End)">&#xBB;</button>
<input id="slider" type="range" min="0" max="{steps}" value="0" aria-label="step">
<span id="step-counter">0 / {steps}</span>
</div>
<div id="step"></div>
<h3>gradients so far</h3>
<ul id="sums"></ul>
<div id="modules"></div>
<div id="doctor"></div>
</aside>
</main>
<div id="tooltip" hidden></div>
<script type="application/json" id="explore-data">{payload}</script>
<script>{SCRIPT}</script>
</body></html>
"""
