"""polars' vocabulary: where a polars method a user reaches for lives in skewless, or why it does not.

Used by the "did you mean" of an unknown method: a polars name is answered from this table (not by
edit distance, which sends ``rank`` to ``arctan``); other names still get the closest methods.
"""

from __future__ import annotations

_ROWS = "it reads other rows, which a per-request function does not have"
_AGG = ("an aggregation over rows has no per-request value; fitted ops learn such statistics on the training "
        "rows and apply them per request: ")

#: Expr methods: ``{polars name: what to write in skewless}``.
EXPR = {
    "qcut": "quantile_bucketize(col(...), n) (a fitted op: the quantiles are learned on the training rows)",
    "cut": "bucketize(col(...), breaks) (literal breaks; polars' cut)",
    "replace": ("map_values(col(...), {old: new}, default=...) (polars' replace_strict with a mapping and a default, "
                "except that null stays null)"),
    "replace_strict": ("map_values(col(...), {old: new}, default=...) (polars' replace_strict with a mapping and a "
                       "default, except that null stays null)"),
    "over": ("a fitted op (target_encode, frequency_encode learn per-group statistics on the training rows); "
             "a window " + _ROWS),
    "rank": "quantile_bucketize(col(...), n) (a fitted op); rank itself " + _ROWS,
    "mean": _AGG + "standardize (mean and std), impute(strategy='mean')",
    "median": _AGG + "impute(strategy='median'), robust_scale",
    "std": _AGG + "standardize",
    "var": _AGG + "standardize",
    "min": _AGG + "min_max_scale; between columns: min_horizontal",
    "max": _AGG + "min_max_scale; between columns: max_horizontal",
    "sum": _AGG + "target_encode / frequency_encode; between columns: sum_horizontal",
    "count": _AGG + "frequency_encode",
    "len": _AGG + "frequency_encode",
    "n_unique": _AGG + "ordinal_encode / one_hot (the vocabulary is learned)",
    "unique": _AGG + "ordinal_encode / one_hot (the vocabulary is learned)",
    "value_counts": _AGG + "frequency_encode",
    "quantile": _AGG + "winsorize, quantile_bucketize",
    "first": "nothing: " + _ROWS,
    "last": "nothing: " + _ROWS,
    "shift": "nothing: " + _ROWS,
    "diff": "nothing: " + _ROWS + "; the difference of two columns is col('a') - col('b')",
    "cum_sum": "nothing: " + _ROWS,
    "cum_count": "nothing: " + _ROWS,
    "rolling_mean": "nothing: " + _ROWS,
    "rolling_sum": "nothing: " + _ROWS,
    "forward_fill": "fill_null(value) (a forward fill " + _ROWS + ")",
    "backward_fill": "fill_null(value) (a backward fill " + _ROWS + ")",
    "interpolate": "fill_null(value) or impute(...) (interpolation " + _ROWS + ")",
    "map_elements": "skewless ops (no Python callbacks: they would run unproven in both runtimes)",
    "map_batches": "skewless ops (no Python callbacks: they would run unproven in both runtimes)",
    "apply": "skewless ops (no Python callbacks: they would run unproven in both runtimes)",
    "is_not_nan": "is_nan().not_()",
    "is_duplicated": "nothing: " + _ROWS,
    "is_unique": "nothing: " + _ROWS,
    "truediv": "col('a') / col('b')",
    "floordiv": "(col('a') / col('b')).floor()",
    "mod": "col('a') % col('b')",
    "neg": "-col('a')",
    "log2": "log(2)",
    "exp2": "pow",
    "round_sig_figs": "round(decimals)",
    "to_physical": "cast(Int64)",
    "strict_cast": "cast(dtype) (casts are strict by default, as in polars)",
    "alias": "the attribute or key name of the feature (features are named by assignment)",
    "name": "the attribute or key name of the feature (features are named by assignment)",
    "arr": "nothing: skewless has no Array dtype",
    "struct": "nothing: skewless has no Struct dtype",
    "cat": "String inputs (categoricals are read as strings)",
}

#: ``Expr.str`` methods.
STR = {
    "lengths": "str.len_chars()",
    "n_chars": "str.len_chars()",
    "len": "str.len_chars() (characters) or str.len_bytes()",
    "lower": "str.to_lowercase()",
    "upper": "str.to_uppercase()",
    "strip": "str.strip_chars()",
    "lstrip": "str.strip_chars_start()",
    "rstrip": "str.strip_chars_end()",
    "ljust": "str.pad_end (not supported yet) / str.pad_start",
    "rjust": "str.pad_start(width, fill)",
    "split_exact": "nothing yet; str.extract(pattern, group) takes one part",
    "splitn": "nothing yet; str.extract(pattern, group) takes one part",
    "to_integer": "cast(Int64)",
    "json_decode": "nothing: skewless has no Struct dtype",
    "concat": "concat_str(...)",
    "join": "concat_str(...)",
}

#: ``Expr.dt`` methods.
DT = {
    "replace_time_zone": "declare the input with its zone (Datetime('us', 'UTC')) and use dt.convert_time_zone",
    "timestamp": "dt.epoch('us')",
    "weekday_name": "dt.weekday() (1 = Monday)",
    "days": "dt.total_days()",
    "hours": "dt.total_hours()",
    "minutes": "dt.total_minutes()",
    "seconds": "dt.total_seconds()",
}

_TABLES = {None: EXPR, "str": STR, "dt": DT}


def polars_hint(namespace: str | None, name: str) -> str:
    """``"; polars' 'qcut' is quantile_bucketize(...) in skewless"`` for a polars name, else ``""``."""
    table = _TABLES.get(namespace, {})
    target = table.get(name)
    if target is None:
        return ""
    where = f"{namespace}.{name}" if namespace else name
    return f"; for polars' {where!r} write {target}"
