"""IR ops: strings (the ``.str`` namespace and ``concat_str``).

Every op copies polars 2.1.0; lengths, offsets and positions count Unicode
code points, as polars does. Regex patterns are checked and translated when
the feature set is defined (see :mod:`skewless.regex`): an unsupported
or invalid pattern fails the definition, naming the construct.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..dtypes import Boolean, DataType, Field, Float64, Int64, Null, String
from ..regex import Regex, translate
from .base import InferContext, Node, field_of, require

__all__ = [
    "StrLenChars", "StrLenBytes", "StrToLowercase", "StrToUppercase", "StrReverse", "StrStripChars", "StrStripCharsStart",
    "StrStripCharsEnd", "StrContains", "StrStartsWith", "StrEndsWith", "StrSlice", "StrHead", "StrTail",
    "StrReplace", "StrReplaceAll", "StrCountMatches", "StrZfill", "StrPadStart", "StrExtract", "ConcatStr",
    "StrSplitGet", "StrSplitLen",
]


def _string_operand(node: Node, a: Field) -> None:
    require(
        isinstance(a.dtype, (String, Null)),
        f"str.{node.method}() needs a String operand, got {a.dtype!r}"
        + (" (cast it to String first)" if isinstance(a.dtype, (Int64, Float64, Boolean)) else ""),
    )


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class _StringOp(Node):
    """Base of the ``.str`` ops: a String receiver (and String arguments), params checked in :meth:`check_params`."""

    __slots__ = ()
    abstract = True
    namespace = "str"

    def infer(self, ctx: InferContext, args: tuple[Field, ...]) -> Field:
        a = args[0]
        _string_operand(self, a)
        for other in args[1:]:
            require(
                isinstance(other.dtype, (String, Null)),
                f"str.{self.method}() needs a String argument, got {other.dtype!r}",
            )
        self.check_params()
        return field_of(self.result_dtype(), *args)

    def result_dtype(self) -> DataType:
        return String()

    def check_params(self) -> None:
        pass


# --------------------------------------------------------------------------- lengths and case


@dataclass(frozen=True, slots=True)
class StrLenChars(_StringOp):
    """``s.str.len_chars()``: number of Unicode code points (``"e\\u0301"`` is 2).

    Int64, not polars' UInt32 (see :mod:`skewless.dtypes`).
    """

    method = "len_chars"
    operand: Node

    def result_dtype(self) -> DataType:
        return Int64()


@dataclass(frozen=True, slots=True)
class StrLenBytes(_StringOp):
    """``s.str.len_bytes()``: length of the UTF-8 encoding. Int64, not polars' UInt32."""

    method = "len_bytes"
    operand: Node

    def result_dtype(self) -> DataType:
        return Int64()


@dataclass(frozen=True, slots=True)
class StrToLowercase(_StringOp):
    """``s.str.to_lowercase()``: Rust's full lowercase mapping (``"İ"`` -> ``"i̇"``, final ``Σ`` -> ``ς``)."""

    method = "to_lowercase"
    operand: Node


@dataclass(frozen=True, slots=True)
class StrToUppercase(_StringOp):
    """``s.str.to_uppercase()``: Rust's full uppercase mapping (``"ß"`` -> ``"SS"``, ``"ﬁ"`` -> ``"FI"``)."""

    method = "to_uppercase"
    operand: Node


@dataclass(frozen=True, slots=True)
class StrReverse(_StringOp):
    """``s.str.reverse()``: polars reverses by extended grapheme cluster (``"e\\u0301x"`` -> ``"xe\\u0301"``).

    A declared gap of the python backend (no grapheme segmentation per request): every
    feature runs on both backends, so a feature using it is refused when it is defined.
    """

    method = "reverse"
    expr_method = True
    operand: Node


# --------------------------------------------------------------------------- trimming


def _check_characters(node: Node, characters: Any) -> None:
    require(
        characters is None or isinstance(characters, str),
        f"str.{node.method}(characters) takes a literal string or None, got {characters!r}",
    )


@dataclass(frozen=True, slots=True)
class StrStripChars(_StringOp):
    """``s.str.strip_chars(characters=None)``: remove leading and trailing characters.

    ``None`` removes Unicode White_Space (Rust's ``char::is_whitespace``), which
    does not include U+001C..U+001F (Python's ``str.strip()`` would remove them).
    A string removes any of its characters; ``""`` removes nothing.
    """

    method = "strip_chars"
    operand: Node
    characters: str | None = None

    def check_params(self) -> None:
        _check_characters(self, self.characters)


@dataclass(frozen=True, slots=True)
class StrStripCharsStart(StrStripChars):
    """``s.str.strip_chars_start(characters=None)``: as :class:`StrStripChars`, leading side only."""

    method = "strip_chars_start"


@dataclass(frozen=True, slots=True)
class StrStripCharsEnd(StrStripChars):
    """``s.str.strip_chars_end(characters=None)``: as :class:`StrStripChars`, trailing side only."""

    method = "strip_chars_end"


# --------------------------------------------------------------------------- matching


def _regex(pattern: Any) -> Regex:
    require(isinstance(pattern, str), f"a pattern must be a literal string, got {pattern!r}")
    return translate(pattern)


@dataclass(frozen=True, slots=True)
class StrContains(_StringOp):
    """``s.str.contains(pattern, literal=False)``: whether the pattern matches anywhere.

    Copies polars: the pattern is a regex unless ``literal=True`` (so ``"a.b"``
    matches ``"axb"``); ``""`` is contained in every string. Regexes use the
    shared dialect of :mod:`skewless.regex` and are checked when the
    feature set is defined (there is no run-time ``strict`` failure).
    """

    method = "contains"
    operand: Node
    pattern: str
    literal: bool = False

    def result_dtype(self) -> DataType:
        return Boolean()

    def check_params(self) -> None:
        require(isinstance(self.pattern, str), f"contains() takes a literal pattern string, got {self.pattern!r}")
        if not self.literal:
            _regex(self.pattern)


@dataclass(frozen=True, slots=True)
class StrStartsWith(_StringOp):
    """``s.str.starts_with(prefix)``: literal prefix test; a null prefix gives null."""

    method = "starts_with"
    operand: Node
    prefix: Node

    def result_dtype(self) -> DataType:
        return Boolean()


@dataclass(frozen=True, slots=True)
class StrEndsWith(_StringOp):
    """``s.str.ends_with(suffix)``: literal suffix test; a null suffix gives null."""

    method = "ends_with"
    operand: Node
    suffix: Node

    def result_dtype(self) -> DataType:
        return Boolean()


@dataclass(frozen=True, slots=True)
class StrCountMatches(_StringOp):
    """``s.str.count_matches(pattern, literal=False)``: number of non-overlapping matches. Int64.

    Copies Rust's iteration: an empty match right after a match is not counted
    (``"a*"`` in ``"baaa"`` counts 2; Python's ``re.findall`` finds 3). ``""``
    counts ``len_chars() + 1``.
    """

    method = "count_matches"
    operand: Node
    pattern: str
    literal: bool = False

    def result_dtype(self) -> DataType:
        return Int64()

    def check_params(self) -> None:
        require(isinstance(self.pattern, str), f"count_matches() takes a literal pattern string, got {self.pattern!r}")
        if not self.literal:
            _regex(self.pattern)


@dataclass(frozen=True, slots=True)
class StrExtract(_StringOp):
    """``s.str.extract(pattern, group_index=1)``: a capture group of the first match, else null.

    Group 0 is the whole match. A group that does not take part in the match
    gives null. Departure: a ``group_index`` above the pattern's number of
    groups is refused at definition time (polars returns null for every row).
    """

    method = "extract"
    operand: Node
    pattern: str
    group_index: int = 1

    def infer(self, ctx: InferContext, args: tuple[Field, ...]) -> Field:
        _StringOp.infer(self, ctx, args)
        return Field(String(), True)

    def check_params(self) -> None:
        regex = _regex(self.pattern)
        require(
            _is_int(self.group_index) and self.group_index >= 0,
            f"extract() group_index must be an int >= 0, got {self.group_index!r}",
        )
        require(
            self.group_index <= regex.groups,
            f"extract() group_index={self.group_index} but the pattern {self.pattern!r} has only"
            f" {regex.groups} capture group(s)",
        )


@dataclass(frozen=True, slots=True)
class StrReplace(_StringOp):
    """``s.str.replace(pattern, value, literal=False, n=1)``: replace the first ``n`` matches.

    ``value`` uses Rust's replacement syntax unless ``literal=True``: ``$1``,
    ``${name}``, ``$$`` for a dollar; ``$name`` takes the longest run of
    ``[_0-9A-Za-z]`` (so ``$1a`` names the missing group ``1a``); a missing
    group expands to ``""``. ``n=-1`` replaces all. Copies polars' limits:
    ``n > 1`` needs a pattern that is a plain string (polars refuses it for
    regexes); ``n=0`` is refused (polars treats it inconsistently).
    """

    method = "replace"
    operand: Node
    pattern: str
    value: str
    literal: bool = False
    n: int = 1

    def check_params(self) -> None:
        require(isinstance(self.pattern, str), f"replace() takes a literal pattern string, got {self.pattern!r}")
        require(isinstance(self.value, str), f"replace() takes a literal replacement string, got {self.value!r}")
        require(
            _is_int(self.n) and (self.n >= 1 or self.n == -1),
            f"replace() n must be >= 1 (or -1 for all), got {self.n!r}",
        )
        if not self.literal:
            regex = _regex(self.pattern)
            require(
                self.n in (1, -1) or regex.literal is not None,
                f"replace() with n={self.n} needs a plain-string pattern: polars does not support n > 1 for"
                f" the regex {self.pattern!r}; use n=1 or replace_all",
            )


@dataclass(frozen=True, slots=True)
class StrReplaceAll(_StringOp):
    """``s.str.replace_all(pattern, value, literal=False)``: replace every match.

    Replacement syntax as :class:`StrReplace`. Empty matches follow Rust:
    ``"baaa".replace_all("a*", "-")`` is ``"-b-"`` (Python's ``re.sub`` gives ``"-b--"``).
    """

    method = "replace_all"
    operand: Node
    pattern: str
    value: str
    literal: bool = False

    def check_params(self) -> None:
        require(isinstance(self.pattern, str), f"replace_all() takes a literal pattern string, got {self.pattern!r}")
        require(isinstance(self.value, str), f"replace_all() takes a literal replacement string, got {self.value!r}")
        if not self.literal:
            _regex(self.pattern)


# --------------------------------------------------------------------------- slicing and padding


@dataclass(frozen=True, slots=True)
class StrSlice(_StringOp):
    """``s.str.slice(offset, length=None)`` in code points.

    Copies polars: a negative offset counts from the end; when it reaches before
    the start, the slice still ends at ``offset + length`` counted from that
    virtual start (``"abc".str.slice(-5, 3)`` is ``"a"``).
    """

    method = "slice"
    operand: Node
    offset: int
    length: int | None = None

    def check_params(self) -> None:
        require(_is_int(self.offset), f"slice() offset must be an int, got {self.offset!r}")
        require(
            self.length is None or (_is_int(self.length) and self.length >= 0),
            f"slice() length must be an int >= 0 or None, got {self.length!r}",
        )


@dataclass(frozen=True, slots=True)
class StrHead(_StringOp):
    """``s.str.head(n)``: the first ``n`` code points; negative ``n`` drops the last ``-n``."""

    method = "head"
    operand: Node
    n: int

    def check_params(self) -> None:
        require(_is_int(self.n), f"head() n must be an int, got {self.n!r}")


@dataclass(frozen=True, slots=True)
class StrTail(_StringOp):
    """``s.str.tail(n)``: the last ``n`` code points; negative ``n`` drops the first ``-n``."""

    method = "tail"
    operand: Node
    n: int

    def check_params(self) -> None:
        require(_is_int(self.n), f"tail() n must be an int, got {self.n!r}")


@dataclass(frozen=True, slots=True)
class StrZfill(_StringOp):
    """``s.str.zfill(length)``: left-pad with ``"0"`` to ``length`` code points, after a leading ``+``/``-``."""

    method = "zfill"
    operand: Node
    length: int

    def check_params(self) -> None:
        require(_is_int(self.length) and self.length >= 0, f"zfill() length must be an int >= 0, got {self.length!r}")


@dataclass(frozen=True, slots=True)
class StrPadStart(_StringOp):
    """``s.str.pad_start(length, fill_char=" ")``: left-pad to ``length`` code points."""

    method = "pad_start"
    operand: Node
    length: int
    fill_char: str = " "

    def check_params(self) -> None:
        require(
            _is_int(self.length) and self.length >= 0, f"pad_start() length must be an int >= 0, got {self.length!r}"
        )
        require(
            isinstance(self.fill_char, str) and len(self.fill_char) == 1,
            f"pad_start() fill_char must be a single character, got {self.fill_char!r}",
        )


# --------------------------------------------------------------------------- concat_str

_CONCATENABLE = (String, Int64, Float64, Boolean, Null)


@dataclass(frozen=True, slots=True)
class ConcatStr(Node):
    """``concat_str(*exprs, separator="", ignore_nulls=False)``.

    Copies polars: a null operand makes the result null unless
    ``ignore_nulls=True``, which skips nulls (and gives ``""`` when all are
    null). Int64, Float64 and Boolean operands are written as polars casts them
    to String (``1.0`` -> ``"1.0"``, ``1e20`` -> ``"1e+20"``, ``True`` -> ``"true"``).
    """

    method = "concat_str"
    propagates_nulls = False
    exprs: tuple[Node, ...]
    separator: str = ""
    ignore_nulls: bool = False

    def infer(self, ctx: InferContext, args: tuple[Field, ...]) -> Field:
        require(len(args) >= 1, "concat_str needs at least one expression")
        require(isinstance(self.separator, str), f"concat_str separator must be a string, got {self.separator!r}")
        for i, a in enumerate(args):
            require(
                isinstance(a.dtype, _CONCATENABLE),
                f"concat_str operand #{i + 1} is {a.dtype!r}; only String, Int64, Float64 and Boolean are"
                " supported (format temporal values explicitly)",
            )
        nullable = not self.ignore_nulls and any(a.nullable for a in args)
        return Field(String(), nullable)

    def render(self, args: list[str]) -> str:
        extra = f", separator={self.separator!r}" if self.separator else ""
        extra += ", ignore_nulls=True" if self.ignore_nulls else ""
        return f"concat_str({', '.join(args)}{extra})"


# --------------------------------------------------------------------------- split, then one element


def _check_split(node: Node) -> None:
    require(isinstance(node.by, str), f"str.split(by): by must be a literal string, got {node.by!r}"
            " (a separator from a column is not supported)")
    require(type(node.inclusive) is bool, "str.split(): inclusive must be True or False")


@dataclass(frozen=True, slots=True)
class StrSplitGet(_StringOp):
    """``s.str.split(by, inclusive=False).list.get(index, null_on_oob=False)``, ``.list.first()``, ``.list.last()``:
    one part of the text split at every literal ``by`` (never a regex), as polars 2.1 splits.

    skewless has no List dtype: the split and the element access are one op, spelt as in polars.
    ``"a,,b,"`` splits into ``a``, ``""``, ``b``, ``""``; an empty text is one empty part; ``by=""``
    splits into code points (an empty text into no parts); ``inclusive=True`` keeps each ``by`` at the end
    of its part and drops an empty last part. A negative index counts from the end. ``first()`` and
    ``last()`` of no parts are null, so is ``get`` out of range with ``null_on_oob=True``; polars' default
    ``null_on_oob=False`` raises for the whole column on a row with too few parts, so skewless accepts it
    only where no row can have too few (index 0 or -1 of a non-inclusive split at a non-empty ``by``) and
    asks for ``null_on_oob=True`` otherwise.
    """

    method = "split"
    operand: Node
    by: str
    index: int = 0
    inclusive: bool = False
    null_on_oob: bool = False
    #: how the access is spelt: "get", "first" or "last" (first/last are get(0)/get(-1) giving null on no parts)
    accessor: str = "get"

    def infer(self, ctx: InferContext, args: tuple[Field, ...]) -> Field:
        _StringOp.infer(self, ctx, args)
        return Field(String(), args[0].nullable or self.null_on_oob)

    def check_params(self) -> None:
        _check_split(self)
        require(_is_int(self.index), f"list.get(index): index must be an int, got {self.index!r} (an expression index"
                " is not supported)")
        require(type(self.null_on_oob) is bool, "list.get(): null_on_oob must be True or False")
        require(self.accessor in ("get", "first", "last"), f"unknown list accessor {self.accessor!r}")
        safe = self.by != "" and not self.inclusive and self.index in (0, -1)
        require(
            self.null_on_oob or safe,
            f"str.split({self.by!r}{', inclusive=True' if self.inclusive else ''}).list.get({self.index}): polars raises"
            " for the whole column when a row has too few parts; pass null_on_oob=True to get null there",
        )

    def render(self, args: list[str]) -> str:
        inc = ", inclusive=True" if self.inclusive else ""
        if self.accessor == "get":
            oob = ", null_on_oob=True" if self.null_on_oob else ""
            access = f"get({self.index}{oob})"
        else:
            access = f"{self.accessor}()"
        return f"{args[0]}.str.split({self.by!r}{inc}).list.{access}"


@dataclass(frozen=True, slots=True)
class StrSplitLen(_StringOp):
    """``s.str.split(by, inclusive=False).list.len()``: the number of parts (see :class:`StrSplitGet`), as
    ``Int64`` (polars: ``UInt32``). ``""`` has 1 part at a non-empty ``by``, 0 at ``by=""`` or inclusive."""

    method = "split"
    operand: Node
    by: str
    inclusive: bool = False

    def result_dtype(self) -> DataType:
        return Int64()

    def check_params(self) -> None:
        _check_split(self)

    def render(self, args: list[str]) -> str:
        inc = ", inclusive=True" if self.inclusive else ""
        return f"{args[0]}.str.split({self.by!r}{inc}).list.len()"
