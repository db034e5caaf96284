"""Compare two bundles on the same data before shipping one (Rules of ML #24: measure the delta between models).

>>> from skewless.training.compare import compare                          # doctest: +SKIP
>>> report = compare("out/bundle_v1", "out/bundle_v2", "flights.parquet")  # doctest: +SKIP
>>> print(report.summary())                                      # doctest: +SKIP

The report (:class:`CompareReport`, ``to_dict()`` for JSON) holds:

* ``scores``: mean scores, the delta ``b - a`` (mean, mean absolute, max absolute,
  quantiles of the absolute delta) and the correlation of the two;
* ``agreement`` (binary): the share of rows on the same side of each bundle's
  decision threshold, and the 2 x 2 table of decisions;
* ``top_changes``: the rows whose scores changed most (row number, event time
  when present, both scores, the delta, and the row's inputs);
* ``metrics``: each bundle's metrics on this data when it holds the label
  (the label definition recorded in bundle ``a``), and their differences; also
  the test metrics recorded in each manifest;
* ``definition``: whether the feature sets are the same, and which features
  were changed, added or removed;
* ``state``: how the fitted state differs (fitted ops only in one bundle; for
  shared ones, each learned value that changed: numbers ``a -> b``, vocabularies
  as added / removed counts) and how the model's category vocabularies differ;
* ``model``: trees, best iteration and changed LightGBM parameters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from skewless.errors import SkewlessError

from .bundle import Bundle, load_bundle

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl

    from skewless.feature_set import FeatureSet

__all__ = ["compare", "CompareReport", "state_diff"]


@dataclass
class CompareReport:
    a: str
    b: str
    rows: int
    task: str
    scores: dict[str, Any]
    agreement: dict[str, Any] | None
    top_changes: list[dict[str, Any]]
    metrics: dict[str, Any]
    definition: dict[str, Any]
    state: dict[str, Any]
    model: dict[str, Any]
    #: Histograms of both models' scores on the same bins: {"edges": [...], "a": [...], "b": [...]}.
    distributions: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        from ._util import json_safe

        return json_safe({k: getattr(self, k) for k in self.__dataclass_fields__})

    def summary(self) -> str:
        s = self.scores
        lines = [f"A: {self.a}", f"B: {self.b}", f"{self.rows:,} rows, task {self.task}",
                 f"scores: mean A {s['mean_a']:.6g}, mean B {s['mean_b']:.6g}, mean delta {s['mean_delta']:+.3g}, "
                 f"mean |delta| {s['mean_abs_delta']:.3g}, max |delta| {s['max_abs_delta']:.3g}, "
                 f"p99 |delta| {s['abs_delta_quantiles']['q99']:.3g}, correlation {s['correlation']:.6f}"]
        if self.agreement and "classes" in self.agreement:
            g = self.agreement
            lines.append(f"predicted classes (argmax of {g['classes']}): agree on {g['agree_rate']:.4%} of rows; "
                         f"{g['changed_labels']:,} changed")
        elif self.agreement:
            g = self.agreement
            lines.append(f"decisions (A >= {g['threshold_a']}, B >= {g['threshold_b']}): agree on {g['agree_rate']:.4%}"
                         f" of rows; positive in A only {g['a_only']:,}, in B only {g['b_only']:,}")
        for name, m in self.metrics.get("on_data", {}).items():
            lines.append(f"metrics on this data, {name}: " + ", ".join(f"{k} {v:.6g}" for k, v in m.items()
                                                                       if isinstance(v, float)))
        d = self.definition
        lines.append("feature set: same definition" if d["same"] else
                     f"feature set differs: changed {d['changed']}, added {d['added']}, removed {d['removed']}")
        st = self.state
        if st.get("same"):
            lines.append("fitted state: identical" if st.get("fitted") else "fitted state: none in either bundle")
        else:
            lines.append(f"fitted state: {len(st['changed'])} op(s) changed, {len(st['only_a'])} only in A, "
                         f"{len(st['only_b'])} only in B")
            for c in st["changed"][:10]:
                lines.append(f"  {c['expr']}: " + "; ".join(f"{k} {v}" for k, v in c["fields"].items()))
        for col, v in self.state.get("model_categories", {}).items():
            lines.append(f"  model categories {col!r}: +{v['added']} -{v['removed']}")
        lines.append(f"model: trees A {self.model['trees_a']}, B {self.model['trees_b']}; changed params "
                     f"{self.model['params_changed'] or 'none'}")
        if self.top_changes:
            lines.append("rows whose scores changed most:")
            for r in self.top_changes:
                when = f" at {r['event_time']}" if r.get("event_time") is not None else ""
                lines.append(f"  row {r['row']}{when}: {r['score_a']:.6g} -> {r['score_b']:.6g} ({r['delta']:+.3g})")
        return "\n".join(lines)


# --------------------------------------------------------------------------- state


def _describe_change(old: Any, new: Any) -> str | None:
    if old == new or (isinstance(old, float) and isinstance(new, float) and math.isnan(old) and math.isnan(new)):
        return None
    if isinstance(old, list) and isinstance(new, list):
        try:
            added, removed = set(map(repr, new)) - set(map(repr, old)), set(map(repr, old)) - set(map(repr, new))
        except TypeError:  # pragma: no cover
            added, removed = set(), set()
        if added or removed:
            return f"{len(old)} -> {len(new)} values (+{len(added)} -{len(removed)})"
        return f"{len(old)} values changed"
    return f"{old!r} -> {new!r}"


def state_diff(state_a: Mapping[str, Any] | None, state_b: Mapping[str, Any] | None) -> dict[str, Any]:
    """How two fitted states differ (keys are fitted-node keys; see :mod:`skewless.fitting`)."""
    if state_a is None and state_b is None:
        return {"same": True, "fitted": False, "only_a": [], "only_b": [], "changed": []}
    a, b = dict(state_a or {}), dict(state_b or {})
    only_a = [a[k].get("expr", k) for k in a if k not in b]
    only_b = [b[k].get("expr", k) for k in b if k not in a]
    changed = []
    for k in a:
        if k not in b:
            continue
        fields = {}
        for f in sorted(set(a[k]) | set(b[k])):
            if f == "expr":
                continue
            d = _describe_change(a[k].get(f), b[k].get(f))
            if d:
                fields[f] = d
        if fields:
            changed.append({"key": k, "expr": a[k].get("expr", k), "op": a[k].get("op"), "fields": fields})
    return {"same": not (only_a or only_b or changed), "fitted": True, "only_a": only_a, "only_b": only_b,
            "changed": changed}


def _categories_diff(a: Bundle, b: Bundle) -> dict[str, Any]:
    ca = {c.name: set(c.categories) for c in a.inputs.columns if c.kind == "category"}
    cb = {c.name: set(c.categories) for c in b.inputs.columns if c.kind == "category"}
    out = {}
    for name in sorted(set(ca) & set(cb)):
        added, removed = len(cb[name] - ca[name]), len(ca[name] - cb[name])
        if added or removed:
            out[name] = {"added": added, "removed": removed}
    return out


# --------------------------------------------------------------------------- the comparison


def _frame(data: Any, fs: "FeatureSet") -> "pl.DataFrame":
    import polars as pl

    from .build import _scan

    if isinstance(data, pl.DataFrame):
        return data
    lf, _ = _scan(data, fs)
    try:
        return lf.collect(engine="streaming")
    except Exception as exc:
        raise SkewlessError(f"cannot read the comparison data: {exc}") from None


def compare(bundle_a: str | Path | Bundle, bundle_b: str | Path | Bundle, data: Any, *, top: int = 10,
            limit: int | None = None) -> CompareReport:
    """Compare two bundles on ``data`` (raw inputs: LazyFrame, DataFrame, path or glob); see the module docstring."""
    import numpy as np
    import polars as pl

    a = bundle_a if isinstance(bundle_a, Bundle) else load_bundle(bundle_a)
    b = bundle_b if isinstance(bundle_b, Bundle) else load_bundle(bundle_b)
    if a.task != b.task:
        raise SkewlessError(f"cannot compare a {a.task} bundle with a {b.task} bundle")
    df = _frame(data, a.feature_set)
    if limit is not None:
        df = df.head(limit)
    if df.height == 0:
        raise SkewlessError("the comparison data has no rows (empty data)")
    score_a = np.asarray(a.score_frame(df), dtype=np.float64)
    score_b = np.asarray(b.score_frame(df), dtype=np.float64)
    prob_a = prob_b = None
    if a.task == "multiclass":  # per row: the probability each model gives the class A predicts
        if a.classes != b.classes:
            raise SkewlessError(f"cannot compare multiclass bundles with different classes: {a.classes} and "
                                f"{b.classes}")
        prob_a, prob_b = score_a, score_b
        rows, pick = np.arange(df.height), prob_a.argmax(axis=1)
        score_a, score_b = prob_a[rows, pick], prob_b[rows, pick]
    delta = score_b - score_a
    absd = np.abs(delta)
    corr = float(np.corrcoef(score_a, score_b)[0, 1]) if df.height > 1 and score_a.std() > 0 and score_b.std() > 0 \
        else float("nan")
    scores = {
        "mean_a": float(score_a.mean()), "mean_b": float(score_b.mean()), "mean_delta": float(delta.mean()),
        "mean_abs_delta": float(absd.mean()), "max_abs_delta": float(absd.max()),
        "abs_delta_quantiles": {f"q{q}": float(np.quantile(absd, q / 100)) for q in (50, 90, 99)},
        "identical_rows": int((delta == 0).sum() if prob_a is None else (prob_a == prob_b).all(axis=1).sum()),
        "correlation": corr,
    }
    if prob_a is not None:
        scores["about"] = "per row: the probability of the class model A predicts, in A and in B"
    agreement = None
    if a.task == "binary":
        ta, tb = a.threshold if a.threshold is not None else 0.5, b.threshold if b.threshold is not None else 0.5
        da, db = score_a >= ta, score_b >= tb
        agreement = {"threshold_a": ta, "threshold_b": tb, "agree_rate": float((da == db).mean()),
                     "both_positive": int((da & db).sum()), "both_negative": int((~da & ~db).sum()),
                     "a_only": int((da & ~db).sum()), "b_only": int((~da & db).sum())}
    elif prob_a is not None:
        la, lb = prob_a.argmax(axis=1), prob_b.argmax(axis=1)
        agreement = {"agree_rate": float((la == lb).mean()), "changed_labels": int((la != lb).sum()),
                     "classes": list(a.classes)}
    order = np.argsort(-absd, kind="stable")[:top]
    event_time = a.manifest["data"]["event_time"]["column"]
    input_cols = [c for c in a.feature_set.inputs if c in df.columns]
    top_changes = []
    for i in order:
        i = int(i)
        row = df.row(i, named=True)
        top_changes.append({
            "row": i, "event_time": row.get(event_time), "score_a": float(score_a[i]), "score_b": float(score_b[i]),
            "delta": float(delta[i]), "inputs": {c: row[c] for c in input_cols},
        })
    metrics: dict[str, Any] = {"recorded_test": {"a": a.manifest["metrics"].get("test"),
                                                 "b": b.manifest["metrics"].get("test")}}
    label_def = a.manifest["data"]["label"]["definition"]
    try:
        from .build import parse_label
        from .train import metrics_for

        expr, _, cols = parse_label(label_def)
        if all(c in df.columns for c in cols):
            if prob_a is not None:  # class names -> indices; rows of an unknown class are left out
                index = {c: float(i) for i, c in enumerate(a.classes)}
                y = df.select(expr.cast(pl.String).replace_strict(index, default=None, return_dtype=pl.Float64)
                              .alias("y")).to_series().fill_null(float("nan")).to_numpy()
            else:
                y = df.select(expr.cast(pl.Float64).alias("y")).to_series().to_numpy()
            ok = np.isfinite(y)
            sa, sb = (score_a, score_b) if prob_a is None else (prob_a, prob_b)
            if ok.any():
                ta = agreement.get("threshold_a", 0.5) if agreement else 0.5
                tb = agreement.get("threshold_b", 0.5) if agreement else 0.5
                ma = metrics_for(a.task, y[ok], sa[ok], ta)
                mb = metrics_for(a.task, y[ok], sb[ok], tb)
                metrics["label"] = label_def
                metrics["on_data"] = {"a": ma, "b": mb, "b_minus_a": {k: mb[k] - ma[k] for k in ma if k != "rows"}}
    except SkewlessError:  # pragma: no cover - the label definition cannot be read on this data
        pass
    fa, fb = a.feature_set.feature_fingerprints(), b.feature_set.feature_fingerprints()
    definition = {
        "same": a.feature_set.fingerprint == b.feature_set.fingerprint,
        "fingerprint_a": a.feature_set.fingerprint, "fingerprint_b": b.feature_set.fingerprint,
        "changed": [k for k in fb if k in fa and fa[k] != fb[k]],
        "added": [k for k in fb if k not in fa], "removed": [k for k in fa if k not in fb],
    }
    state = state_diff(a.fitted_state, b.fitted_state)
    cats = _categories_diff(a, b)
    if cats:
        state["model_categories"] = cats
    pa, pb = a.manifest["model"]["params"], b.manifest["model"]["params"]
    model = {
        "trees_a": a.manifest["model"]["num_trees"], "trees_b": b.manifest["model"]["num_trees"],
        "best_iteration_a": a.manifest["model"]["best_iteration"],
        "best_iteration_b": b.manifest["model"]["best_iteration"],
        "params_changed": {k: [pa.get(k), pb.get(k)] for k in sorted(set(pa) | set(pb)) if pa.get(k) != pb.get(k)},
        "data_hash_a": a.manifest["data"]["data_hash"], "data_hash_b": b.manifest["data"]["data_hash"],
    }
    lo, hi = (0.0, 1.0) if a.task in ("binary", "multiclass") else (float(min(score_a.min(), score_b.min())),
                                                     float(max(score_a.max(), score_b.max())))
    edges = np.linspace(lo, hi if hi > lo else lo + 1.0, 21)
    distributions = {"edges": edges.tolist(), "a": np.histogram(score_a, edges)[0].tolist(),
                     "b": np.histogram(score_b, edges)[0].tolist()}
    return CompareReport(str(a.path), str(b.path), df.height, a.task, scores, agreement, top_changes, metrics,
                         definition, state, model, distributions)
