"""Parity reports for CI systems: JSON (``skewless parity --json``) and JUnit XML (``--junit``)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from skewless.compiled import CompiledFeatureSet
    from skewless.parity import ParityReport


def report_dict(report: "ParityReport", transformer: "CompiledFeatureSet") -> dict[str, Any]:
    """The report as JSON-able data: totals, per output column its count of differing rows and examples."""
    from skewless.training._util import json_safe

    columns = list(transformer.output_schema())
    return json_safe({
        "feature_set": report.feature_set,
        "ok": report.ok,
        "rows": report.rows,
        "seconds": round(report.seconds, 3),
        "columns": {
            name: {
                "mismatching_rows": report.mismatch_counts.get(name, 0),
                "examples": [{"row": m.row, "batch": m.batch, "per_request": m.per_request, "inputs": m.inputs}
                             for m in report.mismatches.get(name, [])],
            }
            for name in columns
        },
        "dtype_errors": list(report.dtype_errors),
        "engine_differences": list(report.engine_differences),
        "time_zone_differences": list(report.tz_differences),
        "errors": list(report.errors),
        "udf_features": list(getattr(report, "udf_features", [])),  # compared, but outside the op-by-op proof
    })


def write_json_report(report: "ParityReport", transformer: "CompiledFeatureSet", path: Path) -> None:
    Path(path).write_text(json.dumps(report_dict(report, transformer), indent=1, allow_nan=False, default=str) + "\n")


def write_junit(report: "ParityReport", transformer: "CompiledFeatureSet", path: Path) -> None:
    """One ``<testcase>`` per output column (failed when any row differs), plus one per whole-set check."""
    data = report_dict(report, transformer)
    suite = ET.Element("testsuite", name=f"skewless.parity.{report.feature_set}", time=f"{report.seconds:.3f}")
    cases = 0
    failures = 0
    for name, col in data["columns"].items():
        case = ET.SubElement(suite, "testcase", classname=f"skewless.parity.{report.feature_set}", name=name)
        cases += 1
        if col["mismatching_rows"]:
            failures += 1
            text = "\n".join(f"row {e['row']}: batch={e['batch']!r} per_request={e['per_request']!r} "
                             f"inputs={e['inputs']!r}" for e in col["examples"])
            failure = ET.SubElement(case, "failure", type="ParityMismatch",
                                    message=f"{col['mismatching_rows']} of {report.rows} rows differ")
            failure.text = text
    for check, key in (("output dtypes", "dtype_errors"), ("engines agree", "engine_differences"),
                       ("time zone database", "time_zone_differences"), ("runs without errors", "errors")):
        case = ET.SubElement(suite, "testcase", classname=f"skewless.parity.{report.feature_set}", name=check)
        cases += 1
        if data[key]:
            failures += 1
            failure = ET.SubElement(case, "failure", type="ParityCheck", message=data[key][0][:200])
            failure.text = "\n".join(data[key])
    suite.set("tests", str(cases))
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
