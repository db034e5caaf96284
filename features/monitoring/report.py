"""Self-contained HTML reports: monitoring (skew + drift) and model change (``skewless compare``).

One file each, no external assets: inline CSS, charts as inline SVG, and a few lines of inline
script (a filter box over the feature cards, and ``data-*`` summary attributes the browser test
reads back from the rendered DOM). Training is drawn in blue, served (or model B) in orange.
"""

from __future__ import annotations

import datetime as _dt
import html
import json
import math
from pathlib import Path
from typing import Any, Sequence

__all__ = ["monitoring_html", "compare_html", "write_html", "TRAIN_COLOR", "SERVED_COLOR", "ALERT_COLOR"]

TRAIN_COLOR = "#1f77b4"
SERVED_COLOR = "#ff7f0e"
ALERT_COLOR = "#d62728"
OK_COLOR = "#2ca02c"

_CSS = f"""
body {{ font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; background: #fff; }}
h1 {{ font-size: 22px; margin: 0 0 4px; }} h2 {{ font-size: 18px; margin: 28px 0 8px; }}
.meta {{ color: #666; margin-bottom: 16px; }}
.badge {{ display: inline-block; padding: 6px 14px; border-radius: 4px; color: #fff; font-weight: 600; }}
.ok {{ background: {OK_COLOR}; }} .bad {{ background: {ALERT_COLOR}; }}
table {{ border-collapse: collapse; margin: 8px 0; }}
td, th {{ border: 1px solid #ddd; padding: 3px 8px; text-align: right; }}
th {{ background: #f4f4f4; }} td.name, th.name {{ text-align: left; }}
td.alert {{ background: #fbd5d5; font-weight: 600; }}
.cards {{ display: flex; flex-wrap: wrap; gap: 12px; }}
.card {{ border: 1px solid #ddd; border-radius: 6px; padding: 8px; width: 540px; }}
.card.flagged {{ border: 2px solid {ALERT_COLOR}; }}
.card h3 {{ font-size: 14px; margin: 0 0 4px; }}
.legend span {{ display: inline-block; width: 12px; height: 12px; margin: 0 4px 0 10px; vertical-align: middle; }}
code {{ font-size: 12px; }}
"""

_SCRIPT = """
(function () {
  var cards = document.querySelectorAll('.card');
  var flagged = document.querySelectorAll('.card.flagged');
  document.body.dataset.cards = cards.length;
  document.body.dataset.flaggedCards = flagged.length;
  document.body.dataset.charts = document.querySelectorAll('svg.chart').length;
  var box = document.getElementById('filter');
  if (box) box.addEventListener('input', function () {
    var q = box.value.toLowerCase();
    cards.forEach(function (c) { c.style.display = c.dataset.feature.toLowerCase().indexOf(q) >= 0 ? '' : 'none'; });
  });
  document.body.dataset.rendered = 'yes';
})();
"""


def _e(x: Any) -> str:
    return html.escape(str(x), quote=True)


def _fmt(v: Any, pct: bool = False) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    if pct:
        return f"{v:.2%}"
    return f"{v:.4f}" if isinstance(v, float) else f"{v:,}" if isinstance(v, int) else str(v)


def bars_svg(labels: Sequence[str], series: Sequence[tuple[str, Sequence[float], str]], *, width: int = 520,
             height: int = 170, title: str = "") -> str:
    """Grouped bars of shares (each series normalized to sum 1) — an inline SVG."""
    norm = []
    for name, values, color in series:
        total = float(sum(values)) or 1.0
        norm.append((name, [v / total for v in values], color))
    top = max([max(v) if v else 0 for _, v, _ in norm] + [1e-9])
    n = max(1, len(labels))
    left, bottom, pad = 34, 22, 4
    plot_w, plot_h = width - left - pad, height - bottom - pad - 12
    group = plot_w / n
    bw = max(1.0, group * 0.8 / max(1, len(norm)))
    parts = [f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img"><title>{_e(title)}</title>']
    parts.append(f'<line x1="{left}" y1="{pad + 12 + plot_h}" x2="{width - pad}" y2="{pad + 12 + plot_h}" '
                 'stroke="#999"/>')
    parts.append(f'<text x="2" y="{pad + 20}" font-size="10" fill="#666">{top:.0%}</text>')
    for s, (name, values, color) in enumerate(norm):
        for i, v in enumerate(values):
            h = plot_h * v / top
            x = left + i * group + group * 0.1 + s * bw
            parts.append(f'<rect x="{x:.1f}" y="{pad + 12 + plot_h - h:.1f}" width="{bw:.1f}" height="{h:.1f}" '
                         f'fill="{color}"><title>{_e(labels[i] if i < len(labels) else "")} {_e(name)}: '
                         f'{v:.2%}</title></rect>')
    step = max(1, n // 8)
    for i in range(0, n, step):
        parts.append(f'<text x="{left + i * group + 2:.1f}" y="{height - 6}" font-size="9" fill="#555">'
                     f'{_e(str(labels[i])[:14])}</text>')
    parts.append("</svg>")
    return "".join(parts)


def line_svg(xs: Sequence[str], ys: Sequence[float], *, threshold: float | None = None, width: int = 520,
             height: int = 110, color: str = SERVED_COLOR, title: str = "") -> str:
    """A line over buckets (NaN: a gap), with a dashed threshold line — an inline SVG."""
    vals = [y for y in ys if y is not None and not math.isnan(y)]
    top = max(vals + ([threshold] if threshold is not None else []) + [1e-9]) * 1.1
    left, pad, bottom = 34, 6, 18
    plot_w, plot_h = width - left - pad, height - pad - bottom
    n = max(1, len(ys) - 1)

    def xy(i: int, y: float) -> tuple[float, float]:
        return left + plot_w * i / n, pad + plot_h * (1 - y / top)

    parts = [f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img"><title>{_e(title)}</title>',
             f'<line x1="{left}" y1="{pad + plot_h}" x2="{width - pad}" y2="{pad + plot_h}" stroke="#999"/>',
             f'<text x="2" y="{pad + 8}" font-size="10" fill="#666">{top:.2g}</text>']
    if threshold is not None:
        _, ty = xy(0, threshold)
        parts.append(f'<line x1="{left}" y1="{ty:.1f}" x2="{width - pad}" y2="{ty:.1f}" stroke="{ALERT_COLOR}" '
                     f'stroke-dasharray="4 3"/>')
    run: list[str] = []
    for i, y in enumerate(ys):
        if y is None or math.isnan(y):
            if len(run) > 1:
                parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{" ".join(run)}"/>')
            run = []
            continue
        x, yy = xy(i, y)
        run.append(f"{x:.1f},{yy:.1f}")
        over = threshold is not None and y > threshold
        parts.append(f'<circle cx="{x:.1f}" cy="{yy:.1f}" r="{3 if over else 2}" '
                     f'fill="{ALERT_COLOR if over else color}"><title>{_e(xs[i])}: {y:.4f}</title></circle>')
    if len(run) > 1:
        parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{" ".join(run)}"/>')
    if xs:
        parts.append(f'<text x="{left}" y="{height - 4}" font-size="9" fill="#555">{_e(xs[0][:10])}</text>')
        parts.append(f'<text x="{width - pad - 60}" y="{height - 4}" font-size="9" fill="#555">'
                     f'{_e(xs[-1][:10])}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _legend(a: str = "training", b: str = "served") -> str:
    return (f'<div class="legend"><span style="background:{TRAIN_COLOR}"></span>{_e(a)}'
            f'<span style="background:{SERVED_COLOR}"></span>{_e(b)}</div>')


def _page(title: str, meta: str, body: str, summary: dict[str, Any]) -> str:
    attrs = " ".join(f'data-{k}="{_e(v)}"' for k, v in summary.items())
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{_e(title)}</title>'
            f'<style>{_CSS}</style></head><body {attrs}><h1>{_e(title)}</h1><div class="meta">{meta}</div>'
            f'{body}<script>{_SCRIPT}</script></body></html>')


def _skew_section(skew: Any) -> str:
    if skew is None:
        return ""
    d = skew.to_dict()
    badge = ('<span class="badge ok" id="skew-status">skew: 0 mismatches</span>' if skew.ok else
             f'<span class="badge bad" id="skew-status">skew: {len(skew.mismatched)} feature(s) mismatched</span>')
    out = [f"<h2>Row-level skew</h2>{badge}",
           f"<p>{d['rows']:,} logged rows recomputed with {_e(d['reference'])}; every feature compared bitwise"
           f"{' and every score' if skew.score else ''}.</p>"]
    rows = [f for f in [*skew.features, *([skew.score] if skew.score else [])] if f.mismatches] or []
    out.append('<table id="skew-table"><tr><th class="name">feature</th><th>rows</th><th>mismatches</th>'
               '<th>rate</th><th class="name">examples (request id: served / recomputed)</th></tr>')
    for f in rows:
        ex = "<br>".join(f"<code>{_e(x['request_id'])}#{x['row']}: {_e(x['served'])} / {_e(x['recomputed'])}</code>"
                         for x in f.examples[:3])
        out.append(f'<tr><td class="name alert">{_e(f.name)}</td><td>{f.rows:,}</td><td class="alert">'
                   f'{f.mismatches:,}</td><td>{f.rate:.2%}</td><td class="name">{ex}</td></tr>')
    if not rows:
        out.append(f'<tr><td class="name">all {len(skew.features)} features</td><td>{skew.rows:,}</td><td>0</td>'
                   f'<td>0.00%</td><td class="name">bitwise identical</td></tr>')
    out.append("</table>")
    for name in skew.only_served:
        out.append(f"<p>{_e(name)}: served but not computed by the reference</p>")
    for name in skew.only_reference:
        out.append(f"<p>{_e(name)}: computed by the reference but not served</p>")
    if skew.decision_flips:
        out.append(f"<p>decisions flipped at threshold {skew.threshold}: {skew.decision_flips:,}</p>")
    return "".join(out)


_COLUMNS = (("psi", "psi", False), ("js", "js", False), ("ks", "ks", False), ("linf", "L∞", False),
            ("out_of_range", "out of range", True), ("null_rate", "null rate", True))


def _drift_section(drift: Any) -> str:
    if drift is None:
        return ""
    ranked = sorted(drift.features, key=lambda f: (-len(f.alerts), -(f.overall.get("psi") or 0)))
    out = [f"<h2>Drift: served vs training</h2><p>{drift.rows:,} served rows, {len(drift.features)} features, "
           f"<b id='drift-flagged'>{len(drift.flagged)}</b> over a threshold"
           + (f"; per {drift.bucket} of <code>{_e(drift.time_column)}</code>" if drift.bucket else "") + ".</p>",
           '<table id="drift-table"><tr><th class="name">feature</th><th>kind</th>'
           + "".join(f"<th>{label}</th>" for _, label, _ in _COLUMNS) + "</tr>"]
    for f in ranked:
        cells = []
        for key, _, pct in _COLUMNS:
            v = f.overall.get(key)
            cells.append(f'<td class="{"alert" if key in f.alerts else ""}">{_fmt(v, pct) if v is not None else ""}</td>')
        out.append(f'<tr><td class="name{" alert" if f.alerts else ""}">{_e(f.name)}</td><td>{f.reference.kind}</td>'
                   + "".join(cells) + "</tr>")
    out.append("</table>")
    out.append('<h2>Per feature</h2><p>filter: <input id="filter" placeholder="feature name"></p>' + _legend()
               + '<div class="cards">')
    for f in ranked:
        ref = f.reference
        chart = bars_svg(ref.labels(), [("training", ref.counts.tolist(), TRAIN_COLOR),
                                        ("served", f.served_bins, SERVED_COLOR)], title=f"{f.name}: histogram")
        over_time = ""
        if f.buckets:
            key = "js" if ref.kind == "numeric" else "linf"
            ys = [m.get(key, math.nan) for _, m, _ in f.buckets]
            over_time = (f"<div>{key} per {drift.bucket} (dashed: threshold {f.thresholds[key]})</div>"
                         + line_svg([b for b, _, _ in f.buckets], ys, threshold=f.thresholds[key],
                                    title=f"{f.name}: {key} over time"))
        flags = f" — drift: {', '.join(f.alerts)}" if f.alerts else ""
        out.append(f'<div class="card{" flagged" if f.alerts else ""}" data-feature="{_e(f.name)}">'
                   f"<h3>{_e(f.name)} <small>({ref.kind}){_e(flags)}</small></h3>{chart}{over_time}</div>")
    out.append("</div>")
    return "".join(out)


def monitoring_html(skew: Any = None, drift: Any = None, *, title: str = "skewless monitoring report",
                    subtitle: str = "") -> str:
    """The monitoring report of a :class:`~skewless.monitoring.skew.SkewReport` and/or a
    :class:`~skewless.monitoring.drift.DriftReport`."""
    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    meta = f"{_e(subtitle)}{' · ' if subtitle else ''}generated {now}"
    summary = {"skew-ok": "" if skew is None else str(skew.ok).lower(),
               "skew-mismatched": "" if skew is None else ",".join(f.name for f in skew.mismatched),
               "drift-flagged": "" if drift is None else ",".join(f.name for f in drift.flagged)}
    return _page(title, meta, _skew_section(skew) + _drift_section(drift), summary)


def compare_html(report: Any, *, title: str = "skewless model comparison") -> str:
    """The model-change report of :func:`skewless.training.compare.compare`: score distributions of both
    models, decision agreement, biggest movers, metrics and what changed."""
    d = report.to_dict()
    s = d["scores"]
    body = [f"<h2>Scores</h2><p>{d['rows']:,} rows; mean A {s['mean_a']:.4f}, mean B {s['mean_b']:.4f}, "
            f"mean |B − A| {s['mean_abs_delta']:.4g}, max |B − A| {s['max_abs_delta']:.4g}, correlation "
            f"{_fmt(s['correlation'])}; identical rows {s['identical_rows']:,}.</p>", _legend("model A", "model B")]
    dist = d.get("distributions")
    if dist:
        e = dist["edges"]
        labels = [f"{e[i]:.2f}" for i in range(len(e) - 1)]
        body.append(bars_svg(labels, [("A", dist["a"], TRAIN_COLOR), ("B", dist["b"], SERVED_COLOR)],
                             width=900, height=220, title="score distributions"))
    ag = d.get("agreement")
    if ag:
        body.append(f"<h2>Decisions</h2><p id='agreement'>agreement {ag['agree_rate']:.2%} at thresholds "
                    f"{ag['threshold_a']} / {ag['threshold_b']}</p><table><tr><th></th><th>B positive</th>"
                    f"<th>B negative</th></tr><tr><th>A positive</th><td>{ag['both_positive']:,}</td>"
                    f"<td>{ag['a_only']:,}</td></tr><tr><th>A negative</th><td>{ag['b_only']:,}</td>"
                    f"<td>{ag['both_negative']:,}</td></tr></table>")
    body.append('<h2>Biggest movers</h2><table id="movers"><tr><th>row</th><th class="name">event time</th>'
                '<th>score A</th><th>score B</th><th>B − A</th><th class="name">inputs</th></tr>')
    for t in d["top_changes"]:
        inputs = ", ".join(f"{k}={v}" for k, v in list(t["inputs"].items())[:8])
        body.append(f"<tr><td>{t['row']}</td><td class='name'>{_e(t['event_time'])}</td><td>{t['score_a']:.4f}</td>"
                    f"<td>{t['score_b']:.4f}</td><td class='{'alert' if abs(t['delta']) > 0.2 else ''}'>"
                    f"{t['delta']:+.4f}</td><td class='name'><code>{_e(inputs)}</code></td></tr>")
    body.append("</table>")
    on = d.get("metrics", {}).get("on_data")
    if on:
        keys = [k for k in on["a"] if k != "rows"]
        body.append("<h2>Metrics on this data</h2><table><tr><th class='name'>metric</th><th>A</th><th>B</th>"
                    "<th>B − A</th></tr>" + "".join(
                        f"<tr><td class='name'>{_e(k)}</td><td>{_fmt(on['a'][k])}</td><td>{_fmt(on['b'][k])}</td>"
                        f"<td>{_fmt(on['b_minus_a'][k])}</td></tr>" for k in keys) + "</table>")
    df = d["definition"]
    body.append(f"<h2>What changed</h2><p>feature set {'unchanged' if df['same'] else 'changed'}"
                + "".join(f"; {k}: {', '.join(map(_e, df[k]))}" for k in ("changed", "added", "removed") if df[k])
                + f"</p><pre>{_e(json.dumps({'state': d['state'], 'model': d['model']}, indent=1, default=str)[:4000])}"
                  "</pre>")
    meta = f"A: <code>{_e(d['a'])}</code> · B: <code>{_e(d['b'])}</code>"
    summary = {"agreement": "" if not ag else f"{ag['agree_rate']:.6f}", "movers": len(d["top_changes"])}
    return _page(title, meta, "".join(body), summary)


def write_html(path: str | Path, text: str) -> Path:
    """Write a report (to a temporary name, then renamed: a report that exists is complete)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path
