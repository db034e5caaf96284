"""What ``skewless show`` and ``skewless parity`` check: a plain set, a fitted set, a build or a bundle.

A TARGET is one of

* ``MODULE:NAME`` or ``path/to/file.py:NAME`` naming a ``FeatureSet`` (fitted ops need ``--fit-on DATA``)
  or a ``FittedFeatureSet``;
* a build directory (``build.json``; its fitted state is ``fitted.json``);
* a bundle directory (``manifest.json``, from ``skewless train``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional, Sequence

from skewless.errors import SkewlessError

if TYPE_CHECKING:  # pragma: no cover
    from skewless.compiled import CompiledFeatureSet
    from skewless.feature_set import FeatureSet


@dataclass(frozen=True)
class CsvOptions:
    """How CSV files are read (``--separator``, ``--null-value``, ``--encoding``)."""

    separator: Optional[str] = None
    null_values: Optional[Sequence[str]] = None
    encoding: str = "utf8"

    def kwargs(self) -> dict[str, Any]:
        return {"separator": self.separator, "null_values": self.null_values, "encoding": self.encoding}


@dataclass
class Target:
    """A resolved target: ``transformer`` is a FeatureSet or a FittedFeatureSet."""

    transformer: "CompiledFeatureSet"
    kind: str  # "feature set", "fitted feature set", "build", "bundle"
    where: str
    notes: list[str] = field(default_factory=list)

    @property
    def definition(self) -> "FeatureSet":
        return self.transformer.definition

    @property
    def fitted(self) -> bool:
        return self.transformer.state is not None


def fitted_ops_of(fs: "FeatureSet") -> list[str]:
    """``"standardize() in 'x_std'"``-style descriptions of the fitted ops a plain set still has."""
    from skewless.fitting import fitted_nodes
    from skewless.ir.base import walk

    nodes = set(fitted_nodes(fs))
    out = []
    for name, feat in fs.features.items():
        for node in walk(feat.node):
            if node in nodes:
                out.append(f"{type(node).__name__} in {name!r}")
                break
    return out


def resolve(target: str, *, fit_on: Optional[str] = None, label: Optional[str] = None,
            csv: CsvOptions = CsvOptions(), need_state: bool = True) -> Target:
    """Resolve TARGET (see the module docstring); raise SkewlessError naming what is wrong."""
    path = Path(target)
    if ":" not in target or path.is_dir():
        if path.is_dir():
            if fit_on is not None:
                raise SkewlessError(f"--fit-on is for a MODULE:NAME feature set; {target!r} is a directory "
                                    f"whose state is already fitted")
            return _directory(path)
        raise SkewlessError(f"{target!r} is neither MODULE:NAME, path/to/file.py:NAME, a build directory nor a "
                            f"bundle directory")
    from skewless.io import load_feature_set

    obj = load_feature_set(target, fitted=True)
    if obj.state is not None:  # already fitted
        if fit_on is not None:
            raise SkewlessError(f"{target} is already fitted; --fit-on is for a FeatureSet with fitted ops")
        return Target(obj, "fitted feature set", target)
    ops = fitted_ops_of(obj) if obj.needs_state else []
    if fit_on is None:
        if ops and need_state:
            raise SkewlessError(f"feature set {obj.name!r} has fitted ops ({', '.join(ops[:3])}"
                                f"{', ...' if len(ops) > 3 else ''}): pass --fit-on DATA to learn their state, "
                                f"or give a build or bundle directory")
        notes = [f"fitted ops without state ({', '.join(ops[:3])}{', ...' if len(ops) > 3 else ''}): pass --fit-on DATA, a build or a bundle to see "
                 f"the generated source"] if ops else []
        return Target(obj, "feature set", target, notes)
    if not ops:
        raise SkewlessError(f"feature set {obj.name!r} has no fitted ops; drop --fit-on")
    from skewless.io import scan_data

    columns = _label_columns(label)
    lf = scan_data(fit_on, obj, columns=columns, **csv.kwargs())
    fitted = obj.prepare(lf, label=_label_expr(label) if label else None)
    return Target(fitted, "fitted feature set", f"{target} fitted on {fit_on}")


def _label_columns(label: Optional[str]) -> list[str]:
    if not label:
        return []
    from skewless.training.build import parse_label

    return list(parse_label(label)[2])


def _label_expr(label: str) -> Any:
    from skewless.training.build import parse_label

    return parse_label(label)[0]


def _directory(path: Path) -> Target:
    if (path / "manifest.json").is_file():
        from skewless.training.bundle import load_bundle

        bundle = load_bundle(path)
        kind = "bundle"
        transformer = bundle.transformer
    elif (path / "build.json").is_file():
        from skewless.training.build import FITTED_FILE, read_build
        from skewless.training.bundle import load_feature_set_for

        from skewless.compiled import load

        manifest = read_build(path)
        fs = load_feature_set_for(manifest, None, where=f"build {str(path)!r}")
        kind = "build"
        transformer = load(fs, path / FITTED_FILE if manifest["feature_set"].get("fitted") else None)
    else:
        raise SkewlessError(f"{str(path)!r} is neither a build directory (no build.json) nor a bundle (no manifest.json)")
    return Target(transformer, kind, str(path))


def describe(target: Target) -> str:
    """The definition (inputs and features) and, for a fitted set, its state and output columns."""
    lines = [target.definition.describe()]
    if target.fitted:
        from skewless.fitting import FittedFeatureSet

        t = target.transformer
        rows = t.meta.get("training_rows") if isinstance(t, FittedFeatureSet) else None
        lines.append(f"fitted: {len(t.state)} fitted nodes" + (f", learned on {rows:,} rows" if rows else "")
                     + f" ({target.kind} {target.where})")
        lines.append("output columns:")
        lines += [f"  {k}: {f!r}" for k, f in t.output_schema().items()]
    lines += [f"note: {n}" for n in target.notes]
    return "\n".join(lines)
