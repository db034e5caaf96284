"""polars' date/time format language (Rust chrono's ``strftime`` items), for the directives skewless supports.

polars parses (``str.strptime``/``to_date``/``to_datetime``) and formats (``dt.strftime``/``to_string``)
with chrono. This module copies chrono 0.4's rules for a documented subset of directives, measured on
polars 2.1; both runtimes compile a format with :func:`tokenize` at definition time, so an unsupported
directive is refused there, naming it.

Parsing (chrono's ``format::parse``), per item of the format, left to right, never backtracking:

* whitespace in the format skips any run of whitespace in the input, including none (Rust's
  ``char::is_whitespace``: Unicode White_Space, so U+3000 and U+0085 count, U+001C does not);
* other literal text must match exactly (case-sensitive);
* a numeric field first skips leading whitespace, then reads 1 to ``width`` ASCII digits, greedily
  (``%Y%m%d`` reads ``2024012`` as 2024-01-2); ``%Y`` takes any number of digits after a ``+``/``-``
  sign; each value is range-checked when read (hour 0-23, minute 0-59, second 0-60, ...), also for a
  ``Date`` target that ignores the time;
* ``%b``/``%B`` read an English month name, ASCII case-insensitive (``%B`` the full name or the 3-letter
  one); ``%p`` reads ``am``/``pm`` in any case;
* ``%.f`` reads ``.`` and 1-9 digits (more are skipped) when the input has a ``.`` there, else nothing;
  ``%.3f``/``%.6f``/``%.9f`` exactly ``.`` and that many digits; ``%3f``... the digits without the dot;
  ``%f`` up to 9 digits as *nanoseconds* (``5`` is 5 ns, chrono's meaning);
* the whole input must be consumed (``exact=True``).

Then the date is built: year (``%y``: 00-69 is 20xx, 70-99 is 19xx) with month and day or with the
day of the year, checked (no 2024-02-30, no day 366 of 2023), years -262143..262142 (chrono's range);
the time from the hour (``%I`` with ``%p``) and minute, second 0 and fraction 0 when absent; second 60
is a leap second: one second later (``23:59:60`` is next midnight). The fraction is truncated to the
unit. A failure is null (``strict=False``) or an error for the column (``strict=True``).
"""

from __future__ import annotations

import re
from typing import Any

from .casts import offset_text, year_text

__all__ = ["WHITESPACE", "tokenize", "parse_plan", "parse_value", "format_value", "FormatError", "TextParser"]

#: Rust's ``char::is_whitespace`` (the Unicode White_Space property).
WHITESPACE = "\t\n\x0b\x0c\r \x85\xa0\u1680" + "".join(chr(c) for c in range(0x2000, 0x200B)) + "\u2028\u2029\u202f\u205f\u3000"
_WS = "[" + re.escape(WHITESPACE) + "]"

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class FormatError(ValueError):
    """A format string skewless cannot compile (the message names the directive)."""


#: Shorthands, expanded as chrono does.
_EXPAND = {"F": "%Y-%m-%d", "T": "%H:%M:%S", "R": "%H:%M", "D": "%m/%d/%y"}
#: Directives both ways: numeric fields (width when parsed, chrono's default padding when formatted).
_NUMERIC = {"Y": 4, "m": 2, "d": 2, "e": 2, "H": 2, "k": 2, "I": 2, "l": 2, "M": 2, "S": 2, "y": 2, "j": 3, "f": 9}
_FIXED = {"b", "h", "B", "p", ".f", ".3f", ".6f", ".9f", "3f", "6f", "9f"}
#: Directives that only format (polars also parses some of them; skewless refuses to parse them).
_FORMAT_ONLY = {"a", "A", "P", "u", "w", "U", "W", "V", "G", "g", "C", "q", "s", "z", ":z"}
_TIME = {"H", "k", "I", "l", "M", "S", "f", "p", "P", ".f", ".3f", ".6f", ".9f", "3f", "6f", "9f", "s"}
_ZONE = {"z", ":z"}
_UNSUPPORTED = {
    "Z": "the zone's abbreviation (chrono-tz's names)", "+": "ISO 8601 with offset", "c": "locale date and time",
    "x": "locale date", "X": "locale time", "r": "12-hour clock time", "U": None, "::z": "offset with seconds",
    ":::z": "offset", "#z": "offset", "n": None, "t": None, "v": "day-month-year", "Q": "milliseconds since epoch",
}


def tokenize(fmt: str, *, parse: bool) -> tuple[tuple[Any, ...], ...]:
    """The items of ``fmt``: ``("lit", text)``, ``("space", text)`` and ``("spec", directive, pad)``.

    ``pad`` is ``""`` or ``"-"`` (no padding, formatting only). Raises :class:`FormatError` naming an
    unsupported directive.
    """
    if not isinstance(fmt, str) or not fmt:
        raise FormatError(f"format must be a non-empty string, got {fmt!r}")
    items: list[tuple[Any, ...]] = []

    def add_text(ch: str) -> None:
        kind = "space" if ch in WHITESPACE else "lit"
        if items and items[-1][0] == kind:
            items[-1] = (kind, items[-1][1] + ch)
        else:
            items.append((kind, ch))

    i = 0
    while i < len(fmt):
        ch = fmt[i]
        if ch != "%":
            add_text(ch)
            i += 1
            continue
        rest = fmt[i + 1:]
        pad = ""
        if rest[:1] in ("-", "_", "0") and rest[1:2] and rest[1:2] not in ("%",):
            pad, rest = rest[0], rest[1:]
            i += 1
        spec = next((s for s in (".3f", ".6f", ".9f", ".f", "3f", "6f", "9f", ":::z", "::z", ":z", "#z") if rest.startswith(s)),
                    rest[:1])
        if not spec:
            raise FormatError(f"format {fmt!r} ends with a lone '%' (polars refuses it); write '%%' for a percent sign")
        i += 1 + len(spec)
        if spec == "%":
            add_text("%")
            continue
        if spec in ("n", "t") and parse is False:
            add_text("\n" if spec == "n" else "\t")
            continue
        if spec in ("n", "t"):
            add_text("\n" if spec == "n" else "\t")
            continue
        if spec in _EXPAND:
            items.extend(tokenize(_EXPAND[spec], parse=parse))
            continue
        if pad and (pad != "-" or parse or spec not in _NUMERIC or spec in ("Y", "f")):
            raise FormatError(f"directive %{pad}{spec}: skewless supports the '-' (no padding) modifier on"
                              " numeric fields when formatting only")
        known = spec in _NUMERIC or spec in _FIXED or spec in _FORMAT_ONLY
        if not known or (parse and spec in _FORMAT_ONLY and spec not in _ZONE):
            what = _UNSUPPORTED.get(spec)
            raise FormatError(
                f"directive %{spec}{f' ({what})' if what else ''} is not supported by skewless when "
                f"{'parsing' if parse else 'formatting'}; supported: {supported(parse)}"
            )
        items.append(("spec", spec, pad))
    return tuple(items)


def supported(parse: bool) -> str:
    names = [*_NUMERIC, *sorted(_FIXED)] + (sorted(_ZONE) if parse else sorted(_FORMAT_ONLY))
    return " ".join(f"%{n}" for n in names) + " %F %T %R %D %n %t %%"


def directives(items: tuple[tuple[Any, ...], ...]) -> set[str]:
    return {it[1] for it in items if it[0] == "spec"}


def has_time(items) -> bool:
    return bool(directives(items) & _TIME)


def has_zone(items) -> bool:
    return bool(directives(items) & _ZONE)


# --------------------------------------------------------------------------- parsing


def check_parse_format(fmt: str, items) -> None:
    """polars' own checks of a parse format (it raises for the column), and skewless' completeness rule."""
    ds = directives(items)
    hour = ds & {"H", "k", "I", "l"}
    if bool(hour) != ("M" in ds):
        raise FormatError(f"format {fmt!r}: give both an hour and a minute directive, or neither (polars refuses it)")
    if "S" in ds and not hour:
        raise FormatError(f"format {fmt!r}: a seconds directive without an hour directive (polars refuses it)")
    if bool(ds & {"I", "l"}) != ("p" in ds):
        raise FormatError(f"format {fmt!r}: %I/%l and %p go together (polars refuses one without the other)")
    if ds & {"H", "k"} and ds & {"I", "l"}:
        raise FormatError(f"format {fmt!r}: both a 24-hour and a 12-hour directive")
    counts: dict[str, int] = {}
    for it in items:
        if it[0] == "spec":
            group = {"e": "d", "k": "H", "l": "I", "h": "b", "B": "b", "y": "Y", ":z": "z"}.get(it[1], it[1])
            if group in ("f", ".f", ".3f", ".6f", ".9f", "3f", "6f", "9f"):
                group = "fraction"
            counts[group] = counts.get(group, 0) + 1
    twice = sorted(g for g, n in counts.items() if n > 1)
    if twice:
        raise FormatError(f"format {fmt!r} gives the same field more than once ({', '.join(twice)}); skewless refuses"
                          " it (chrono then checks that the values agree)")
    year = "Y" in ds or "y" in ds
    month_day = bool(ds & {"m", "b", "h", "B"}) and bool(ds & {"d", "e"})
    if not (year and (month_day or "j" in ds)) or ("j" in ds and (ds & {"m", "b", "h", "B", "d", "e"})):
        raise FormatError(
            f"format {fmt!r} must give a whole date: a year (%Y or %y) with a month and a day (%m/%b/%B and %d/%e),"
            " or with the day of the year (%j) alone"
        )


def _num(width: int) -> str:
    return f"{_WS}*+([0-9]{{1,{width}}}+)"


def parse_plan(items) -> tuple[str, tuple[str, ...]]:
    """``(pattern, fields)``: a regex (possessive, so it never backtracks, like chrono) with one group per field."""
    parts: list[str] = []
    fields: list[str] = []
    for it in items:
        if it[0] == "lit":
            parts.append(re.escape(it[1]))
            continue
        if it[0] == "space":
            parts.append(f"{_WS}*+")
            continue
        spec = it[1]
        if spec == "Y":
            parts.append(f"{_WS}*+(?>([+-][0-9]++)|([0-9]{{1,4}}+))")
            fields += ["Ysigned", "Y"]
        elif spec in _NUMERIC:
            parts.append(_num(_NUMERIC[spec]))
            fields.append({"e": "d", "k": "H", "l": "I"}.get(spec, spec))
        elif spec in ("b", "h"):
            parts.append("(" + "|".join(m[:3] for m in MONTHS) + ")")
            fields.append("b")
        elif spec == "B":
            parts.append("(" + "|".join(f"{m[:3]}(?:{m[3:]})?+" if m[3:] else m[:3] for m in MONTHS) + ")")
            fields.append("b")
        elif spec == "p":
            parts.append("(am|pm)")
            fields.append("p")
        elif spec in ("z", ":z"):  # chrono: whitespace, a sign (also U+2212), 2 hour digits, any run of ':' and
            # whitespace, 2 minute digits (measured: "+01::00", "+01 00", "\u22120100" parse; "+01", "Z" do not)
            parts.append(f"{_WS}*+([+\\-\u2212])([0-9]{{2}})(?:[:]|{_WS})*+([0-9]{{2}})")
            fields += ["zsign", "zh", "zm"]
        elif spec == ".f":
            parts.append(r"(?>\.([0-9]{1,9}+)[0-9]*+|(?!\.))")
            fields.append("frac")
        elif spec in (".3f", ".6f", ".9f"):  # optional; when there is a '.', exactly that many digits
            parts.append(rf"(?>\.([0-9]{{{spec[1]}}})|(?!\.))")
            fields.append("frac")
        elif spec in ("3f", "6f", "9f"):
            parts.append(rf"([0-9]{{{spec[0]}}})")
            fields.append("frac")
        else:  # pragma: no cover - tokenize(parse=True) lets nothing else through
            raise FormatError(f"directive %{spec} cannot be parsed")
    return "".join(parts), tuple(fields)


def polars_format(fmt: str) -> str:
    """The format as polars hands it to its parsers: ``%D %R %T %X %F`` replaced as text (polars' ``compile_fmt``)."""
    return (fmt.replace("%D", "%m/%d/%y").replace("%R", "%H:%M").replace("%T", "%H:%M:%S").replace("%X", "%H:%M:%S")
            .replace("%F", "%Y-%m-%d"))


def _fast_items(fmt: str) -> tuple[tuple[str, Any], ...] | None:
    """polars' own fixed-width parser's plan (``fmt_len``): only ``%Y %y %d %m %b %H %M %S`` and a final
    ``%3f``/``%6f``/``%9f`` between literal bytes, else None (chrono parses alone)."""
    data = fmt.encode()
    items: list[tuple[str, Any]] = []
    i = 0
    while i < len(data):
        b = data[i]
        if b != 0x25:  # '%'
            items.append(("lit", b))
            i += 1
            continue
        nxt = data[i + 1: i + 2]
        if nxt in (b"Y", b"y", b"d", b"m", b"b", b"H", b"M", b"S"):
            items.append(("spec", nxt.decode()))
            i += 2
            continue
        if nxt in (b"9", b"6", b"3") and data[i + 2: i + 3] == b"f" and i + 3 == len(data):
            items.append(("frac", int(nxt)))
            return tuple(items)
        return None
    return tuple(items)


_FAST_WIDTH = {"Y": 4, "y": 2, "d": 2, "m": 2, "b": 3, "H": 2, "M": 2, "S": 2}
_ABBR_BYTES = {m[:3].encode(): i + 1 for i, m in enumerate(MONTHS)}
_SIGNED = re.compile(rb"-?[0-9]+")


def _fast_parse(val: bytes, items, fmt_len: int):
    """polars' ``StrpTimeState::parse``: ``(year, month, day, hour, minute, second, nano)`` or None."""
    offset = 0
    negative = False
    if val.startswith(b"-") and items and items[0] == ("spec", "Y"):
        offset, negative = 1, True
    if len(val) - offset != fmt_len:
        return None
    year, month, day, hour, minute, second, nano = 1, 1, 1, 0, 0, 0, 0
    for kind, what in items:
        if kind == "lit":
            if val[offset] != what:
                return None
            offset += 1
            continue
        if kind == "frac":
            chunk = val[offset: offset + what]
            if not (chunk.isdigit() and chunk.isascii()):
                return None
            nano = int(chunk) * 10 ** (9 - what)
            offset += what
            break
        width = _FAST_WIDTH[what]
        chunk = val[offset: offset + width]
        if what == "b":
            month = _ABBR_BYTES.get(chunk)
            if month is None:
                return None
        elif what == "y":  # atoi of two bytes, a '-' sign allowed, trailing bytes ignored (polars' decade rule)
            m = _SIGNED.match(chunk)
            if m is None:
                return None
            decade = int(m.group())
            year = 2000 + decade if decade < 70 else 1900 + decade
        elif what == "Y":  # four bytes as an i32 (a '-' sign allowed), negated after a leading '-'
            if _SIGNED.fullmatch(chunk) is None:
                return None
            year = int(chunk) * (-1 if negative else 1)
        else:
            if not (chunk.isdigit() and chunk.isascii() and len(chunk) == width):
                return None
            v = int(chunk)
            if what == "m":
                if v > 12:
                    return None
                month = v
            elif what == "d":
                day = v
            elif what == "H":
                hour = v
            elif what == "M":
                minute = v
            else:
                second = v
        offset += width
    if offset != len(val):
        return None
    # chrono's NaiveDate::from_ymd_opt / and_hms_nano_opt (no leap second here)
    if not (_YEAR_MIN <= year <= _YEAR_MAX and 1 <= month <= 12) or hour > 23 or minute > 59 or second > 59:
        return None
    if not 1 <= day <= (31, 29 if _leap(year) else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)[month - 1]:
        return None
    return year, month, day, hour, minute, second, nano


class TextParser:
    """One format, parsed as polars 2.1 does: its fixed-width fast path first (when the format allows it),
    then chrono's scan (:func:`parse_plan`) when that fails."""

    __slots__ = ("format", "fullmatch", "fields", "fast", "fast_len")

    def __init__(self, fmt: str):
        self.format = fmt
        compiled = polars_format(fmt)
        items = tokenize(compiled, parse=True)
        check_parse_format(fmt, items)
        pattern, self.fields = parse_plan(items)
        flags = re.ASCII | re.IGNORECASE if any(f in ("b", "p") for f in self.fields) else re.ASCII
        self.fullmatch = re.compile(pattern, flags).fullmatch
        self.fast = _fast_items(compiled)
        self.fast_len = None if self.fast is None else sum(
            1 if k == "lit" else (_FAST_WIDTH[w] if k == "spec" else w) for k, w in self.fast)

    def __repr__(self) -> str:
        return f"TextParser({self.format!r})"

    def parse(self, text: str, unit: str | None) -> int | None:
        if self.fast is not None:
            got = _fast_parse(text.encode(), self.fast, self.fast_len)
            if got is not None:
                year, month, day, hour, minute, second, nano = got
                days = _days_from_civil(year, month, day)
                if unit is None:
                    return days
                seconds = ((days * 24 + hour) * 60 + minute) * 60 + second
                return seconds * 1_000_000 + nano // 1_000 if unit == "us" else seconds * 1_000 + nano // 1_000_000
        return parse_value(self.fullmatch(text), self.fields, unit)

    def parse_strict(self, text: str, unit: str | None, target: str) -> int:
        out = self.parse(text, unit)
        if out is None:
            from ..errors import InvalidOperationError

            raise InvalidOperationError(f"conversion from `str` to `{target}` failed for value {text!r}")
        return out


_LIMITS = {"m": (1, 12), "d": (1, 31), "H": (0, 23), "I": (1, 12), "M": (0, 59), "S": (0, 60), "j": (1, 366), "y": (0, 99)}
_MONTH_INDEX = {m[:3].lower(): i + 1 for i, m in enumerate(MONTHS)}
_CUM = (0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334)
_YEAR_MIN, _YEAR_MAX = -262_143, 262_142


def _leap(y: int) -> bool:
    return y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)


def _days_from_civil(year: int, month: int, day: int) -> int:
    y = year - (month <= 2)
    era = y // 400
    yoe = y - era * 400
    mp = month - 3 if month > 2 else month + 9
    doy = (153 * mp + 2) // 5 + day - 1
    return era * 146_097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719_468


def parse_value(match: "re.Match[str] | None", fields: tuple[str, ...], unit: str | None) -> int | None:
    """The parsed value from a full match: a day count (``unit=None``, a Date) or a count of ``unit``
    since the epoch; None when chrono would fail."""
    if match is None:
        return None
    got: dict[str, Any] = {}
    for name, text in zip(fields, match.groups()):
        if text is None:
            continue
        if name == "zsign":
            got["zsign"] = -1 if text in ("-", "\u2212") else 1
        elif name in ("zh", "zm"):
            got[name] = int(text)
        elif name == "Ysigned":
            got["Y"] = int(text)  # (+/- and the digits)
        elif name in ("b", "p"):
            got[name] = text.lower()
        elif name == "frac":
            got["frac"] = int(text.ljust(9, "0")[:9])
        elif name == "f":
            got["frac"] = int(text)  # %f: nanoseconds as written (chrono)
        else:
            v = int(text)
            lo_hi = _LIMITS.get(name)
            if lo_hi is not None and not lo_hi[0] <= v <= lo_hi[1]:
                return None
            got[name] = v
    if "Y" in got:
        year = got["Y"]
        if not -(2**31) <= year < 2**31:
            return None
    else:
        yy = got["y"]
        year = yy + (2000 if yy < 70 else 1900)
    if not _YEAR_MIN <= year <= _YEAR_MAX:
        return None
    if "j" in got:
        ordinal = got["j"]
        if ordinal == 366 and not _leap(year):
            return None
        days = _days_from_civil(year, 1, 1) + ordinal - 1
    else:
        month = got["m"] if "m" in got else _MONTH_INDEX[got["b"][:3]]
        day = got["d"]
        length = (31, 29 if _leap(year) else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)[month - 1]
        if day > length:
            return None
        days = _days_from_civil(year, month, day)
    if "zsign" in got and got["zm"] > 59:  # chrono's offset scan refuses minutes over 59 ...
        return None
    if unit is None:  # a Date: the date as written (the offset is scanned, not applied: "+2400" passes -- polars)
        return days
    if "H" in got:
        hour = got["H"]
    elif "I" in got:
        hour = got["I"] % 12 + (12 if got["p"] == "pm" else 0)
    else:
        hour = 0
    second = got.get("S", 0)
    nanos = got.get("frac", 0)
    seconds = ((days * 24 + hour) * 60 + got.get("M", 0)) * 60 + second  # second 60: a leap second, one later
    if "zsign" in got:  # %z: the wall clock at that offset, as the UTC instant (polars' result is UTC)
        offset = got["zh"] * 3600 + got["zm"] * 60
        if offset >= 86_400:  # ... and a datetime's offset must be under a day ("+2400" fails, "+2359" parses)
            return None
        seconds -= got["zsign"] * offset
    if unit == "us":
        return seconds * 1_000_000 + nanos // 1_000
    return seconds * 1_000 + nanos // 1_000_000


# --------------------------------------------------------------------------- formatting


_ABBR = tuple(m[:3] for m in MONTHS)


def format_value(items, days: int, tod_us: int | None, offset_s: int | None, instant_s: int | None) -> str:
    """chrono's text for the wall clock ``days`` (since 1970-01-01) plus ``tod_us`` microseconds into the
    day (None for a Date); ``offset_s`` the UTC offset of a zoned value, ``instant_s`` its epoch seconds."""
    from .temporal import ProlepticDate

    pd = ProlepticDate(days)
    year, month, day = pd.year, pd.month, pd.day
    out: list[str] = []
    for it in items:
        if it[0] != "spec":
            out.append(it[1])
            continue
        spec, pad = it[1], it[2]
        if spec == "Y":
            out.append(year_text(year))
            continue
        if spec in ("m", "d", "e", "y", "j", "H", "k", "I", "l", "M", "S", "u", "w", "U", "W", "V", "G", "g", "q"):
            width, fill = 2, "0"
            if spec == "m":
                v = month
            elif spec in ("d", "e"):
                v = day
                fill = " " if spec == "e" else "0"
            elif spec == "y":
                v = year % 100
            elif spec == "j":
                v, width = days - _days_from_civil(year, 1, 1) + 1, 3
            elif spec in ("H", "k"):
                v = tod_us // 3_600_000_000
                fill = " " if spec == "k" else "0"
            elif spec in ("I", "l"):
                v = (tod_us // 3_600_000_000) % 12 or 12
                fill = " " if spec == "l" else "0"
            elif spec == "M":
                v = tod_us // 60_000_000 % 60
            elif spec == "S":
                v = tod_us // 1_000_000 % 60
            elif spec == "u":
                v, width = (days + 3) % 7 + 1, 1
            elif spec == "w":
                v, width = (days + 4) % 7, 1
            elif spec in ("U", "W"):
                yday = days - _days_from_civil(year, 1, 1)
                wd = (days + 4) % 7 if spec == "U" else (days + 3) % 7  # days since Sunday / Monday
                v = (yday + 7 - wd) // 7
            elif spec == "q":
                v, width = (month + 2) // 3, 1
            else:  # V, G, g: ISO week date
                iso_year, week, _ = pd.isocalendar()
                if spec == "V":
                    v = week
                elif spec == "G":
                    out.append(f"{iso_year:04d}" if 0 <= iso_year <= 9999 else f"{iso_year:+05d}")
                    continue
                else:
                    v = iso_year % 100
            out.append(str(v) if pad == "-" else str(v).rjust(width, fill))
            continue
        if spec in ("b", "h"):
            out.append(_ABBR[month - 1])
        elif spec == "B":
            out.append(MONTHS[month - 1])
        elif spec in ("a", "A"):
            name = WEEKDAYS[(days + 3) % 7]
            out.append(name[:3] if spec == "a" else name)
        elif spec in ("p", "P"):
            am = tod_us < 43_200_000_000
            out.append(("AM" if am else "PM") if spec == "p" else ("am" if am else "pm"))
        elif spec == "C":
            out.append(f"{year // 100:02d}")
        elif spec in ("f", ".f", ".3f", ".6f", ".9f", "3f", "6f", "9f"):
            nanos = tod_us % 1_000_000 * 1_000
            if spec == "f":
                out.append(f"{nanos:09d}")
            elif spec == ".f":
                if nanos == 0:
                    pass
                elif nanos % 1_000_000 == 0:
                    out.append(f".{nanos // 1_000_000:03d}")
                elif nanos % 1_000 == 0:
                    out.append(f".{nanos // 1_000:06d}")
                else:
                    out.append(f".{nanos:09d}")
            else:
                digits = int(spec.strip(".f"))
                text = f"{nanos:09d}"[:digits]
                out.append(("." if spec[0] == "." else "") + text)
        elif spec == "s":
            out.append(str(instant_s))
        elif spec in ("z", ":z"):
            out.append(offset_text(offset_s, ":" if spec == ":z" else ""))  # (seconds rounded, as chrono)
    return "".join(out)

