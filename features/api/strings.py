"""The ``.str`` namespace and ``concat_str``: polars' names, signatures and meanings.

Lengths and positions count Unicode code points, as polars does. Regex
patterns use the dialect documented in :mod:`skewless.regex` (Rust's
syntax; polars is the reference) and are checked when the feature set is
defined, so an unsupported construct fails early, naming the construct.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import ExprTypeError
from ..ir import strings as ops
from ..ir import temporal as ops_temporal
from .namespace import Namespace

if TYPE_CHECKING:
    from .expr import Expr

__all__ = ["StringNamespace", "concat_str"]


def _wrap(value: Any):
    from .expr import wrap

    return wrap(value)


class StringNamespace(Namespace):
    """String methods, as ``polars.Expr.str``.

    Examples
    --------
    >>> from skewless import col
    >>> col("origin").str.to_lowercase()
    <Expr col('origin').str.to_lowercase()>
    """

    _name = "str"
    __slots__ = ()

    # --- splitting ------------------------------------------------------------------------
    def split(self, by: str, *, inclusive: bool = False) -> "Expr":
        """Split at every literal ``by``, as polars: a list, of which skewless takes one element.

        skewless has no List dtype, so the result must be read with ``.list.get(i)``, ``.list.first()``,
        ``.list.last()`` or ``.list.len()`` (see :class:`skewless.ir.strings.StrSplitGet`); used as it is, it
        is refused when the feature set is defined.

        Examples
        --------
        >>> col("route").str.split("-").list.first()
        <Expr col('route').str.split('-').list.first()>
        >>> col("route").str.split("-").list.get(1, null_on_oob=True)
        <Expr col('route').str.split('-').list.get(1, null_on_oob=True)>
        """
        from .expr import ListExpr, _Refused

        if not isinstance(by, str) or type(inclusive) is not bool:
            return self._new(_Refused(f"str.split(by, inclusive=...): by must be a literal string and inclusive True or"
                                      f" False, got {by!r} and {inclusive!r} (a separator from a column is not supported)"))
        return ListExpr(self._node, by, inclusive)


    def strptime(self, dtype: Any, format: str | None = None, *, strict: bool = True, exact: bool = True,
                 cache: bool = True, ambiguous: str = "raise") -> "Expr":
        """Parse text into ``dtype`` (``Date`` or ``Datetime``, naive or UTC) with an explicit chrono ``format``.

        Copies polars' parsing (chrono's rules: see :class:`skewless.ir.temporal.StrToTemporal`).
        ``strict=True`` raises on a value that does not parse, ``strict=False`` gives null.
        ``format`` is required (polars infers one from the data, which a per-request function
        cannot); ``exact=False`` (a match anywhere in the text) is not supported. ``cache`` only
        affects polars' speed. A bare ``Datetime`` takes polars' unit for the format (``ms`` for
        ``%.3f``/``%3f``, else ``us``).

        Examples
        --------
        >>> from skewless import Date
        >>> col("day").str.strptime(Date, "%Y-%m-%d")
        <Expr col('day').str.strptime(Date, '%Y-%m-%d')>
        """
        from ..dtypes import Datetime, to_dtype

        if isinstance(dtype, type) and dtype is Datetime:
            return self.to_datetime(format, strict=strict, exact=exact, cache=cache, ambiguous=ambiguous)
        _check_parse_args("strptime", format, strict, exact, cache, ambiguous)
        return self._new(ops_temporal.StrToTemporal(self._node, to_dtype(dtype), format, strict))

    def to_date(self, format: str | None = None, *, strict: bool = True, exact: bool = True,
                cache: bool = True) -> "Expr":
        """Parse text into a ``Date``: ``str.strptime(Date, format, strict=strict)``.

        Examples
        --------
        >>> col("day").str.to_date("%d/%m/%Y", strict=False)
        <Expr col('day').str.strptime(Date, '%d/%m/%Y', strict=False)>
        """
        from ..dtypes import Date

        _check_parse_args("to_date", format, strict, exact, cache, "raise")
        return self._new(ops_temporal.StrToTemporal(self._node, Date(), format, strict))

    def to_datetime(self, format: str | None = None, *, time_unit: str | None = None, time_zone: str | None = None,
                    strict: bool = True, exact: bool = True, cache: bool = True, ambiguous: str = "raise") -> "Expr":
        """Parse text into a ``Datetime(time_unit, time_zone)`` (``time_zone`` None or ``"UTC"``).

        ``time_unit=None`` takes polars' choice for the format: ``"ms"`` when it holds ``%.3f``
        or ``%3f``, ``"us"`` otherwise (``%.9f``/``%9f`` would be nanoseconds, which skewless
        refuses: give ``time_unit``).

        Examples
        --------
        >>> col("ts").str.to_datetime("%Y-%m-%d %H:%M:%S%.f")
        <Expr col('ts').str.strptime(Datetime(time_unit='us', time_zone=None), '%Y-%m-%d %H:%M:%S%.f')>
        """
        from ..dtypes import Datetime

        _check_parse_args("to_datetime", format, strict, exact, cache, ambiguous)
        if time_unit is None:  # polars' inference from the format text
            if "%.9f" in format or "%9f" in format:
                raise ExprTypeError(f"str.to_datetime({format!r}): polars would parse nanoseconds (Datetime('ns'));"
                                    " give time_unit='us' or 'ms'")
            time_unit = "ms" if ("%.3f" in format or "%3f" in format) else "us"
        try:
            dtype = Datetime(time_unit, time_zone)
        except Exception as exc:
            raise ExprTypeError(f"str.to_datetime(): {exc}") from None
        return self._new(ops_temporal.StrToTemporal(self._node, dtype, format, strict))

    # --- lengths and case ------------------------------------------------------------
    def len_chars(self) -> "Expr":
        """Number of Unicode code points, as Int64 (polars: UInt32).

        ``"e\\u0301"`` (e + combining accent) has 2; ``"🙂"`` has 1.

        Examples
        --------
        >>> col("dest").str.len_chars()
        <Expr col('dest').str.len_chars()>
        """
        return self._new(ops.StrLenChars(self._node))

    def len_bytes(self) -> "Expr":
        """Length of the UTF-8 encoding, as Int64 (polars: UInt32).

        Examples
        --------
        >>> col("dest").str.len_bytes()
        <Expr col('dest').str.len_bytes()>
        """
        return self._new(ops.StrLenBytes(self._node))

    def to_lowercase(self) -> "Expr":
        """Lowercase with Rust's full Unicode mapping, as polars.

        ``"İ"`` becomes ``"i̇"`` (two code points) and a word-final ``"Σ"``
        becomes ``"ς"``. Characters added in Unicode 15/16 are mapped as polars
        maps them, even where Python's own ``str.lower`` does not know them.

        Examples
        --------
        >>> col("carrier").str.to_lowercase()
        <Expr col('carrier').str.to_lowercase()>
        """
        return self._new(ops.StrToLowercase(self._node))

    def to_uppercase(self) -> "Expr":
        """Uppercase with Rust's full Unicode mapping (``"straße"`` -> ``"STRASSE"``), as polars.

        Examples
        --------
        >>> col("carrier").str.to_uppercase()
        <Expr col('carrier').str.to_uppercase()>
        """
        return self._new(ops.StrToUppercase(self._node))

    # --- trimming --------------------------------------------------------------------
    def strip_chars(self, characters: str | None = None) -> "Expr":
        """Remove leading and trailing ``characters`` (any of them), or whitespace when None.

        Copies polars: whitespace is Unicode White_Space (Rust's
        ``char::is_whitespace``), so U+00A0 and U+2028 are removed but the
        separators U+001C..U+001F are kept (Python's ``str.strip()`` removes
        them). ``characters=""`` removes nothing.

        Examples
        --------
        >>> col("tailnum").str.strip_chars()
        <Expr col('tailnum').str.strip_chars(characters=None)>
        >>> col("tailnum").str.strip_chars("N ")
        <Expr col('tailnum').str.strip_chars(characters='N ')>
        """
        return self._new(ops.StrStripChars(self._node, _characters(characters)))

    def strip_chars_start(self, characters: str | None = None) -> "Expr":
        """Like :meth:`strip_chars`, leading side only.

        Examples
        --------
        >>> col("code").str.strip_chars_start("0")
        <Expr col('code').str.strip_chars_start(characters='0')>
        """
        return self._new(ops.StrStripCharsStart(self._node, _characters(characters)))

    def strip_chars_end(self, characters: str | None = None) -> "Expr":
        """Like :meth:`strip_chars`, trailing side only.

        Examples
        --------
        >>> col("code").str.strip_chars_end()
        <Expr col('code').str.strip_chars_end(characters=None)>
        """
        return self._new(ops.StrStripCharsEnd(self._node, _characters(characters)))

    # --- matching --------------------------------------------------------------------
    def contains(self, pattern: str, *, literal: bool = False, strict: bool = True) -> "Expr":
        """Whether ``pattern`` matches anywhere in the string.

        Copies polars: ``pattern`` is a **regex** unless ``literal=True``, so
        ``contains("a.b")`` is true for ``"axb"``. ``(?i)`` makes it
        case-insensitive with Rust's simple case folding. The regex dialect is
        documented in :mod:`skewless.regex`; a pattern outside it (or
        invalid) fails when the feature set is defined, so ``strict`` has no
        run-time effect (``strict=False`` cannot turn a bad pattern into nulls).

        Examples
        --------
        >>> col("tailnum").str.contains(r"^N\\d+")
        <Expr col('tailnum').str.contains(pattern='^N\\\\d+', literal=False)>
        >>> col("name").str.contains("Inc.", literal=True)
        <Expr col('name').str.contains(pattern='Inc.', literal=True)>
        """
        _check_pattern(pattern, "contains")
        return self._new(ops.StrContains(self._node, pattern, bool(literal)))

    def starts_with(self, prefix: Any) -> "Expr":
        """Whether the string starts with ``prefix`` (a literal string or a String expression).

        Examples
        --------
        >>> col("tailnum").str.starts_with("N")
        <Expr col('tailnum').str.starts_with(lit('N'))>
        """
        return self._new(ops.StrStartsWith(self._node, _wrap(prefix)))

    def ends_with(self, suffix: Any) -> "Expr":
        """Whether the string ends with ``suffix`` (a literal string or a String expression).

        Examples
        --------
        >>> col("tailnum").str.ends_with("AA")
        <Expr col('tailnum').str.ends_with(lit('AA'))>
        """
        return self._new(ops.StrEndsWith(self._node, _wrap(suffix)))

    def count_matches(self, pattern: str, *, literal: bool = False) -> "Expr":
        """Number of non-overlapping matches of ``pattern``, as Int64 (polars: UInt32).

        Copies polars (Rust): an empty match right after a match is not
        counted, so ``"a*"`` matches ``"baaa"`` twice (Python's ``re`` finds 3);
        ``""`` matches ``len_chars() + 1`` times.

        Examples
        --------
        >>> col("route").str.count_matches("-", literal=True)
        <Expr col('route').str.count_matches(pattern='-', literal=True)>
        """
        _check_pattern(pattern, "count_matches")
        return self._new(ops.StrCountMatches(self._node, pattern, bool(literal)))

    def extract(self, pattern: str, group_index: int = 1) -> "Expr":
        """Capture group ``group_index`` of the first match of ``pattern``; null without a match.

        Group 0 is the whole match; a group that did not take part gives null.
        Departure: a ``group_index`` the pattern does not have is refused at
        definition time (polars would give null on every row).

        Examples
        --------
        >>> col("tailnum").str.extract(r"^N(\\d+)", 1)
        <Expr col('tailnum').str.extract(pattern='^N(\\\\d+)', group_index=1)>
        """
        _check_pattern(pattern, "extract")
        return self._new(ops.StrExtract(self._node, pattern, group_index))

    def replace(self, pattern: str, value: str, *, literal: bool = False, n: int = 1) -> "Expr":
        """Replace the first ``n`` matches of ``pattern`` with ``value``.

        ``value`` follows Rust's replacement syntax unless ``literal=True``:
        ``$0``/``$1``/``${name}`` insert a group, ``$$`` a dollar sign. As in
        polars, ``$name`` takes the longest run of letters, digits and ``_``,
        so write ``${1}a`` rather than ``$1a`` (which names a missing group and
        inserts nothing). ``n=-1`` replaces all; ``n > 1`` needs a pattern that
        is a plain string (polars refuses it for regexes).

        Examples
        --------
        >>> col("route").str.replace(r"(\\w+)-(\\w+)", "${2}-${1}")
        <Expr col('route').str.replace(pattern='(\\\\w+)-(\\\\w+)', value='${2}-${1}', literal=False, n=1)>
        """
        _check_pattern(pattern, "replace")
        _check_value(value, "replace")
        return self._new(ops.StrReplace(self._node, pattern, value, bool(literal), n))

    def replace_all(self, pattern: str, value: str, *, literal: bool = False) -> "Expr":
        """Replace every match of ``pattern`` with ``value`` (syntax as :meth:`replace`).

        Empty matches follow polars (Rust): ``"baaa"`` with ``"a*"`` -> ``"-"``
        gives ``"-b-"``, where Python's ``re.sub`` gives ``"-b--"``.

        Examples
        --------
        >>> col("name").str.replace_all(r"\\s+", " ")
        <Expr col('name').str.replace_all(pattern='\\\\s+', value=' ', literal=False)>
        """
        _check_pattern(pattern, "replace_all")
        _check_value(value, "replace_all")
        return self._new(ops.StrReplaceAll(self._node, pattern, value, bool(literal)))

    # --- slicing and padding ---------------------------------------------------------
    def slice(self, offset: int, length: int | None = None) -> "Expr":
        """Code points ``offset`` .. ``offset + length``; a negative offset counts from the end.

        Copies polars when a negative offset reaches before the start: the end
        is still ``offset + length`` from that virtual start, so
        ``"abc".slice(-5, 3)`` is ``"a"`` and ``"abc".slice(-5, 2)`` is ``""``.

        Examples
        --------
        >>> col("tailnum").str.slice(1, 3)
        <Expr col('tailnum').str.slice(offset=1, length=3)>
        """
        return self._new(ops.StrSlice(self._node, offset, length))

    def head(self, n: int) -> "Expr":
        """The first ``n`` code points; a negative ``n`` drops the last ``-n``.

        Examples
        --------
        >>> col("dest").str.head(2)
        <Expr col('dest').str.head(n=2)>
        """
        return self._new(ops.StrHead(self._node, n))

    def tail(self, n: int) -> "Expr":
        """The last ``n`` code points; a negative ``n`` drops the first ``-n``.

        Examples
        --------
        >>> col("dest").str.tail(2)
        <Expr col('dest').str.tail(n=2)>
        """
        return self._new(ops.StrTail(self._node, n))

    def zfill(self, length: int) -> "Expr":
        """Pad with ``"0"`` on the left to ``length`` code points, after a leading ``-`` or ``+``.

        Examples
        --------
        >>> col("flight_code").str.zfill(4)
        <Expr col('flight_code').str.zfill(length=4)>
        """
        return self._new(ops.StrZfill(self._node, length))

    def pad_start(self, length: int, fill_char: str = " ") -> "Expr":
        """Pad on the left with ``fill_char`` (one character) to ``length`` code points.

        Examples
        --------
        >>> col("flight_code").str.pad_start(5, "*")
        <Expr col('flight_code').str.pad_start(length=5, fill_char='*')>
        """
        return self._new(ops.StrPadStart(self._node, length, fill_char))


def _characters(characters: Any) -> str | None:
    if characters is None or isinstance(characters, str):
        return characters
    from .expr import Expr

    if isinstance(characters, Expr):
        from ..ir.base import Literal

        node = characters._node
        if isinstance(node, Literal) and (node.value is None or isinstance(node.value, str)):
            return node.value
    raise ExprTypeError(f"strip_chars takes a literal string of characters (or None), got {characters!r}")


def _check_pattern(pattern: Any, method: str) -> None:
    if not isinstance(pattern, str):
        raise ExprTypeError(f"str.{method}() takes a literal pattern string, got {type(pattern).__name__}")


def _check_value(value: Any, method: str) -> None:
    if not isinstance(value, str):
        raise ExprTypeError(f"str.{method}() takes a literal replacement string, got {type(value).__name__}")


def concat_str(*exprs: Any, separator: str = "", ignore_nulls: bool = False) -> "Expr":
    """Concatenate expressions into one string, as ``polars.concat_str``.

    As in polars, a plain string names a **column** (use ``lit("-")`` for a
    constant), lists are flattened, and Int64/Float64/Boolean operands are
    written as polars casts them (``1.0`` -> ``"1.0"``, ``True`` -> ``"true"``).
    A null operand makes the result null unless ``ignore_nulls=True``.

    Examples
    --------
    >>> from skewless import concat_str, col, lit
    >>> concat_str("origin", lit("-"), col("dest"))
    <Expr concat_str(col('origin'), lit('-'), col('dest'))>
    >>> concat_str("carrier", "flight", separator=" ", ignore_nulls=True)
    <Expr concat_str(col('carrier'), col('flight'), separator=' ', ignore_nulls=True)>
    """
    from .expr import Expr, wrap

    flat: list[Any] = []
    for e in exprs:
        flat.extend(e if isinstance(e, (list, tuple)) else [e])
    if not flat:
        raise ExprTypeError("concat_str needs at least one expression")
    if not isinstance(separator, str):
        raise ExprTypeError(f"concat_str separator must be a string, got {separator!r}")
    nodes = tuple(wrap(e, str_as_col=True) for e in flat)
    return Expr(ops.ConcatStr(nodes, separator, bool(ignore_nulls)))


def _check_parse_args(method: str, format: Any, strict: Any, exact: Any, cache: Any, ambiguous: Any) -> None:
    if format is None:
        raise ExprTypeError(
            f"str.{method}() needs an explicit format (e.g. '%Y-%m-%d'): polars infers one from the data, which the"
            " per-request function cannot copy"
        )
    if not isinstance(format, str):
        raise ExprTypeError(f"str.{method}(): format must be a string, got {format!r}")
    if type(strict) is not bool or type(cache) is not bool:
        raise ExprTypeError(f"str.{method}(): strict and cache must be True or False")
    if exact is not True:
        raise ExprTypeError(f"str.{method}(exact=False) (a match anywhere in the text) is not supported; extract the"
                            " date with str.extract(pattern) first")
    if ambiguous != "raise":
        raise ExprTypeError(f"str.{method}(ambiguous={ambiguous!r}): only matters for zones with DST, which skewless"
                            " does not parse into (time_zone None or 'UTC')")
