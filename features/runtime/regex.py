"""The regex dialect skewless accepts: one pattern, the same matches in polars and in Python.

Polars runs patterns with Rust's ``regex`` crate; the per-request runtime has
only Python's ``re``. The two engines disagree in many places (what ``\\w`` and
``\\s`` mean, where ``$`` matches, case-insensitive matching of ``K``/``ı``,
captures inside repeated empty groups, empty matches after a match, ...), so a
pattern is never handed to either engine as written. :func:`translate` parses
it once, when the feature set is defined, into a small syntax tree in which
every character class is an explicit set of code points, and writes that tree
out twice: once in Rust's syntax (given to polars) and once in Python's
syntax. Both engines then run the same explicit program.

Accepted syntax (Rust's spelling; polars is the reference)
----------------------------------------------------------
* literals; escapes ``\\n \\t \\r \\f \\v \\a``, ``\\xHH``, ``\\x{H..}``,
  ``\\uHHHH``, ``\\u{H..}``, ``\\UHHHHHHHH``, ``\\U{H..}``; ``\\`` before any
  ASCII punctuation or a space makes it literal
* ``.``, classes ``[abc]``, ``[^a-z]``, ``[\\d_]``; ``]`` first and ``-``
  first or last are literal
* ``\\d \\w \\s \\D \\W \\S`` with **Rust's Unicode meaning**, written out as
  explicit code point sets measured from polars 2.1.0 (``\\d`` = Nd, ``\\w`` =
  Alphabetic, M, Nd, Pc, Join_Control; ``\\s`` = White_Space, which excludes
  U+001C..U+001F that Python's ``\\s`` includes and Python's ``\\w`` lacks
  combining marks)
* ``\\b``, ``\\B`` (Unicode word boundaries, emulated in Python with
  look-around on the same ``\\w`` set)
* ``^`` and ``$`` (start and end of the text; Python's ``$`` would also match
  before a final newline, so it becomes ``\\Z``), line anchors under ``(?m)``
* groups ``(...)``, ``(?:...)``, ``(?P<name>...)``, ``(?<name>...)``;
  alternation ``|``
* quantifiers ``* + ? {n} {n,} {n,m}`` (at most 1000), lazy with a trailing ``?``
* flags ``i s m x`` at the very start ``(?ix)`` or scoped ``(?i:...)``,
  ``(?-i:...)``. ``(?i)`` uses Rust's simple case folding (``k`` matches ``K``
  and the Kelvin sign U+212A; ``ß`` matches ``ẞ`` but not ``ss``; ``i`` does
  not match dotless ``ı`` although Python's ``re.I`` would), written out as
  explicit classes. ``(?x)`` ignores Unicode whitespace and ``#`` comments,
  including inside classes and counted repetitions, as Rust does.

Refused when the feature set is defined (naming the construct)
--------------------------------------------------------------
look-around, backreferences, possessive quantifiers and atomic groups,
conditionals, comments ``(?#...)``, ``\\p{..}``/``\\P{..}``, ``\\A \\z \\Z \\G``,
``\\b{start}``-style boundaries, ``\\< \\>``, POSIX classes ``[[:alpha:]]``, class
set operations ``&& -- ~~``, nested classes, ``{,n}``, an unescaped ``{`` that
does not start a repetition, octal escapes, ``\\Q..\\E`` and other unknown
escapes, flags other than ``i s m x`` or inline flags after the start, a
quantifier on an anchor or on another quantifier, classes matching nothing,
and a capture group inside a repetition whose body can match the empty string
(``(a?)*``: Python captures the extra empty iteration, Rust does not).

Deliberate differences from polars
----------------------------------
* a pattern polars would reject only when run is refused at definition time
  (``strict=False`` cannot turn an invalid pattern into nulls);
* lone surrogates (impossible in polars strings) are not matched by ``[^...]``
  in Rust but are in Python.

Performance caveat: Rust's engine runs in linear time; Python's ``re``
backtracks, so nested unbounded quantifiers over overlapping text (``(\\w+\\s?)+$``
on a long non-matching string) can take exponential time per request, where
polars stays fast. Results still agree; prefer unambiguous patterns.

Empty matches: Rust never reports an empty match that ends where the previous
match ended; Python does. ``count_matches``/``replace_all`` of a pattern that
can match the empty string therefore iterate with Rust's rule in the
per-request runtime (:func:`skewless.runtime.strings.rust_matches`).

Replacement strings use Rust's syntax (:func:`parse_replacement`).
"""

from __future__ import annotations

import bisect
import functools
import re
from dataclasses import dataclass
from typing import Union

from ..errors import ExprTypeError

__all__ = ["Regex", "RegexDialectError", "translate", "parse_replacement", "rust_replacement", "MAX_REPEAT"]

MAX_REPEAT = 1000
_MAX_CP = 0x10FFFF
_SURROGATES = (0xD800, 0xDFFF)

Ranges = tuple  # tuple[tuple[int, int], ...]: sorted, disjoint, non-adjacent, no surrogates


class RegexDialectError(ExprTypeError):
    """A pattern outside the shared dialect (or invalid), raised when the feature set is defined."""


# --------------------------------------------------------------------------- Unicode tables
# Measured from polars 2.1.0 over every code point (tests/test_regex_dialect.py re-measures
# them): ``\w``, ``\d`` and ``\s`` as Rust's regex crate defines them, and the simple case
# folding orbits ``(?i)`` uses (every code point matched by ``(?i)c`` for each ``c``).
# Ranges are hex ``lo-hi`` or a single hex code point; orbits are comma separated.
_WORD = (
    "30-39 41-5A 5F 61-7A AA B5 BA C0-D6 D8-F6 F8-2C1 2C6-2D1 2E0-2E4 2EC 2EE 300-374 376-377 37A-37D 37F 386 "
    "388-38A 38C 38E-3A1 3A3-3F5 3F7-481 483-52F 531-556 559 560-588 591-5BD 5BF 5C1-5C2 5C4-5C5 5C7 5D0-5EA "
    "5EF-5F2 610-61A 620-669 66E-6D3 6D5-6DC 6DF-6E8 6EA-6FC 6FF 710-74A 74D-7B1 7C0-7F5 7FA 7FD 800-82D 840-85B "
    "860-86A 870-887 889-88E 897-8E1 8E3-963 966-96F 971-983 985-98C 98F-990 993-9A8 9AA-9B0 9B2 9B6-9B9 9BC-9C4 "
    "9C7-9C8 9CB-9CE 9D7 9DC-9DD 9DF-9E3 9E6-9F1 9FC 9FE A01-A03 A05-A0A A0F-A10 A13-A28 A2A-A30 A32-A33 A35-A36 "
    "A38-A39 A3C A3E-A42 A47-A48 A4B-A4D A51 A59-A5C A5E A66-A75 A81-A83 A85-A8D A8F-A91 A93-AA8 AAA-AB0 AB2-AB3 "
    "AB5-AB9 ABC-AC5 AC7-AC9 ACB-ACD AD0 AE0-AE3 AE6-AEF AF9-AFF B01-B03 B05-B0C B0F-B10 B13-B28 B2A-B30 B32-B33 "
    "B35-B39 B3C-B44 B47-B48 B4B-B4D B55-B57 B5C-B5D B5F-B63 B66-B6F B71 B82-B83 B85-B8A B8E-B90 B92-B95 B99-B9A "
    "B9C B9E-B9F BA3-BA4 BA8-BAA BAE-BB9 BBE-BC2 BC6-BC8 BCA-BCD BD0 BD7 BE6-BEF C00-C0C C0E-C10 C12-C28 C2A-C39 "
    "C3C-C44 C46-C48 C4A-C4D C55-C56 C58-C5A C5D C60-C63 C66-C6F C80-C83 C85-C8C C8E-C90 C92-CA8 CAA-CB3 CB5-CB9 "
    "CBC-CC4 CC6-CC8 CCA-CCD CD5-CD6 CDD-CDE CE0-CE3 CE6-CEF CF1-CF3 D00-D0C D0E-D10 D12-D44 D46-D48 D4A-D4E "
    "D54-D57 D5F-D63 D66-D6F D7A-D7F D81-D83 D85-D96 D9A-DB1 DB3-DBB DBD DC0-DC6 DCA DCF-DD4 DD6 DD8-DDF DE6-DEF "
    "DF2-DF3 E01-E3A E40-E4E E50-E59 E81-E82 E84 E86-E8A E8C-EA3 EA5 EA7-EBD EC0-EC4 EC6 EC8-ECE ED0-ED9 EDC-EDF "
    "F00 F18-F19 F20-F29 F35 F37 F39 F3E-F47 F49-F6C F71-F84 F86-F97 F99-FBC FC6 1000-1049 1050-109D 10A0-10C5 10C7 "
    "10CD 10D0-10FA 10FC-1248 124A-124D 1250-1256 1258 125A-125D 1260-1288 128A-128D 1290-12B0 12B2-12B5 12B8-12BE "
    "12C0 12C2-12C5 12C8-12D6 12D8-1310 1312-1315 1318-135A 135D-135F 1380-138F 13A0-13F5 13F8-13FD 1401-166C "
    "166F-167F 1681-169A 16A0-16EA 16EE-16F8 1700-1715 171F-1734 1740-1753 1760-176C 176E-1770 1772-1773 1780-17D3 "
    "17D7 17DC-17DD 17E0-17E9 180B-180D 180F-1819 1820-1878 1880-18AA 18B0-18F5 1900-191E 1920-192B 1930-193B "
    "1946-196D 1970-1974 1980-19AB 19B0-19C9 19D0-19D9 1A00-1A1B 1A20-1A5E 1A60-1A7C 1A7F-1A89 1A90-1A99 1AA7 "
    "1AB0-1ACE 1B00-1B4C 1B50-1B59 1B6B-1B73 1B80-1BF3 1C00-1C37 1C40-1C49 1C4D-1C7D 1C80-1C8A 1C90-1CBA 1CBD-1CBF "
    "1CD0-1CD2 1CD4-1CFA 1D00-1F15 1F18-1F1D 1F20-1F45 1F48-1F4D 1F50-1F57 1F59 1F5B 1F5D 1F5F-1F7D 1F80-1FB4 "
    "1FB6-1FBC 1FBE 1FC2-1FC4 1FC6-1FCC 1FD0-1FD3 1FD6-1FDB 1FE0-1FEC 1FF2-1FF4 1FF6-1FFC 200C-200D 203F-2040 2054 "
    "2071 207F 2090-209C 20D0-20F0 2102 2107 210A-2113 2115 2119-211D 2124 2126 2128 212A-212D 212F-2139 213C-213F "
    "2145-2149 214E 2160-2188 24B6-24E9 2C00-2CE4 2CEB-2CF3 2D00-2D25 2D27 2D2D 2D30-2D67 2D6F 2D7F-2D96 2DA0-2DA6 "
    "2DA8-2DAE 2DB0-2DB6 2DB8-2DBE 2DC0-2DC6 2DC8-2DCE 2DD0-2DD6 2DD8-2DDE 2DE0-2DFF 2E2F 3005-3007 3021-302F "
    "3031-3035 3038-303C 3041-3096 3099-309A 309D-309F 30A1-30FA 30FC-30FF 3105-312F 3131-318E 31A0-31BF 31F0-31FF "
    "3400-4DBF 4E00-A48C A4D0-A4FD A500-A60C A610-A62B A640-A672 A674-A67D A67F-A6F1 A717-A71F A722-A788 A78B-A7CD "
    "A7D0-A7D1 A7D3 A7D5-A7DC A7F2-A827 A82C A840-A873 A880-A8C5 A8D0-A8D9 A8E0-A8F7 A8FB A8FD-A92D A930-A953 "
    "A960-A97C A980-A9C0 A9CF-A9D9 A9E0-A9FE AA00-AA36 AA40-AA4D AA50-AA59 AA60-AA76 AA7A-AAC2 AADB-AADD AAE0-AAEF "
    "AAF2-AAF6 AB01-AB06 AB09-AB0E AB11-AB16 AB20-AB26 AB28-AB2E AB30-AB5A AB5C-AB69 AB70-ABEA ABEC-ABED ABF0-ABF9 "
    "AC00-D7A3 D7B0-D7C6 D7CB-D7FB F900-FA6D FA70-FAD9 FB00-FB06 FB13-FB17 FB1D-FB28 FB2A-FB36 FB38-FB3C FB3E "
    "FB40-FB41 FB43-FB44 FB46-FBB1 FBD3-FD3D FD50-FD8F FD92-FDC7 FDF0-FDFB FE00-FE0F FE20-FE2F FE33-FE34 FE4D-FE4F "
    "FE70-FE74 FE76-FEFC FF10-FF19 FF21-FF3A FF3F FF41-FF5A FF66-FFBE FFC2-FFC7 FFCA-FFCF FFD2-FFD7 FFDA-FFDC "
    "10000-1000B 1000D-10026 10028-1003A 1003C-1003D 1003F-1004D 10050-1005D 10080-100FA 10140-10174 101FD "
    "10280-1029C 102A0-102D0 102E0 10300-1031F 1032D-1034A 10350-1037A 10380-1039D 103A0-103C3 103C8-103CF "
    "103D1-103D5 10400-1049D 104A0-104A9 104B0-104D3 104D8-104FB 10500-10527 10530-10563 10570-1057A 1057C-1058A "
    "1058C-10592 10594-10595 10597-105A1 105A3-105B1 105B3-105B9 105BB-105BC 105C0-105F3 10600-10736 10740-10755 "
    "10760-10767 10780-10785 10787-107B0 107B2-107BA 10800-10805 10808 1080A-10835 10837-10838 1083C 1083F-10855 "
    "10860-10876 10880-1089E 108E0-108F2 108F4-108F5 10900-10915 10920-10939 10980-109B7 109BE-109BF 10A00-10A03 "
    "10A05-10A06 10A0C-10A13 10A15-10A17 10A19-10A35 10A38-10A3A 10A3F 10A60-10A7C 10A80-10A9C 10AC0-10AC7 "
    "10AC9-10AE6 10B00-10B35 10B40-10B55 10B60-10B72 10B80-10B91 10C00-10C48 10C80-10CB2 10CC0-10CF2 10D00-10D27 "
    "10D30-10D39 10D40-10D65 10D69-10D6D 10D6F-10D85 10E80-10EA9 10EAB-10EAC 10EB0-10EB1 10EC2-10EC4 10EFC-10F1C "
    "10F27 10F30-10F50 10F70-10F85 10FB0-10FC4 10FE0-10FF6 11000-11046 11066-11075 1107F-110BA 110C2 110D0-110E8 "
    "110F0-110F9 11100-11134 11136-1113F 11144-11147 11150-11173 11176 11180-111C4 111C9-111CC 111CE-111DA 111DC "
    "11200-11211 11213-11237 1123E-11241 11280-11286 11288 1128A-1128D 1128F-1129D 1129F-112A8 112B0-112EA "
    "112F0-112F9 11300-11303 11305-1130C 1130F-11310 11313-11328 1132A-11330 11332-11333 11335-11339 1133B-11344 "
    "11347-11348 1134B-1134D 11350 11357 1135D-11363 11366-1136C 11370-11374 11380-11389 1138B 1138E 11390-113B5 "
    "113B7-113C0 113C2 113C5 113C7-113CA 113CC-113D3 113E1-113E2 11400-1144A 11450-11459 1145E-11461 11480-114C5 "
    "114C7 114D0-114D9 11580-115B5 115B8-115C0 115D8-115DD 11600-11640 11644 11650-11659 11680-116B8 116C0-116C9 "
    "116D0-116E3 11700-1171A 1171D-1172B 11730-11739 11740-11746 11800-1183A 118A0-118E9 118FF-11906 11909 "
    "1190C-11913 11915-11916 11918-11935 11937-11938 1193B-11943 11950-11959 119A0-119A7 119AA-119D7 119DA-119E1 "
    "119E3-119E4 11A00-11A3E 11A47 11A50-11A99 11A9D 11AB0-11AF8 11BC0-11BE0 11BF0-11BF9 11C00-11C08 11C0A-11C36 "
    "11C38-11C40 11C50-11C59 11C72-11C8F 11C92-11CA7 11CA9-11CB6 11D00-11D06 11D08-11D09 11D0B-11D36 11D3A "
    "11D3C-11D3D 11D3F-11D47 11D50-11D59 11D60-11D65 11D67-11D68 11D6A-11D8E 11D90-11D91 11D93-11D98 11DA0-11DA9 "
    "11EE0-11EF6 11F00-11F10 11F12-11F3A 11F3E-11F42 11F50-11F5A 11FB0 12000-12399 12400-1246E 12480-12543 "
    "12F90-12FF0 13000-1342F 13440-13455 13460-143FA 14400-14646 16100-16139 16800-16A38 16A40-16A5E 16A60-16A69 "
    "16A70-16ABE 16AC0-16AC9 16AD0-16AED 16AF0-16AF4 16B00-16B36 16B40-16B43 16B50-16B59 16B63-16B77 16B7D-16B8F "
    "16D40-16D6C 16D70-16D79 16E40-16E7F 16F00-16F4A 16F4F-16F87 16F8F-16F9F 16FE0-16FE1 16FE3-16FE4 16FF0-16FF1 "
    "17000-187F7 18800-18CD5 18CFF-18D08 1AFF0-1AFF3 1AFF5-1AFFB 1AFFD-1AFFE 1B000-1B122 1B132 1B150-1B152 1B155 "
    "1B164-1B167 1B170-1B2FB 1BC00-1BC6A 1BC70-1BC7C 1BC80-1BC88 1BC90-1BC99 1BC9D-1BC9E 1CCF0-1CCF9 1CF00-1CF2D "
    "1CF30-1CF46 1D165-1D169 1D16D-1D172 1D17B-1D182 1D185-1D18B 1D1AA-1D1AD 1D242-1D244 1D400-1D454 1D456-1D49C "
    "1D49E-1D49F 1D4A2 1D4A5-1D4A6 1D4A9-1D4AC 1D4AE-1D4B9 1D4BB 1D4BD-1D4C3 1D4C5-1D505 1D507-1D50A 1D50D-1D514 "
    "1D516-1D51C 1D51E-1D539 1D53B-1D53E 1D540-1D544 1D546 1D54A-1D550 1D552-1D6A5 1D6A8-1D6C0 1D6C2-1D6DA "
    "1D6DC-1D6FA 1D6FC-1D714 1D716-1D734 1D736-1D74E 1D750-1D76E 1D770-1D788 1D78A-1D7A8 1D7AA-1D7C2 1D7C4-1D7CB "
    "1D7CE-1D7FF 1DA00-1DA36 1DA3B-1DA6C 1DA75 1DA84 1DA9B-1DA9F 1DAA1-1DAAF 1DF00-1DF1E 1DF25-1DF2A 1E000-1E006 "
    "1E008-1E018 1E01B-1E021 1E023-1E024 1E026-1E02A 1E030-1E06D 1E08F 1E100-1E12C 1E130-1E13D 1E140-1E149 1E14E "
    "1E290-1E2AE 1E2C0-1E2F9 1E4D0-1E4F9 1E5D0-1E5FA 1E7E0-1E7E6 1E7E8-1E7EB 1E7ED-1E7EE 1E7F0-1E7FE 1E800-1E8C4 "
    "1E8D0-1E8D6 1E900-1E94B 1E950-1E959 1EE00-1EE03 1EE05-1EE1F 1EE21-1EE22 1EE24 1EE27 1EE29-1EE32 1EE34-1EE37 "
    "1EE39 1EE3B 1EE42 1EE47 1EE49 1EE4B 1EE4D-1EE4F 1EE51-1EE52 1EE54 1EE57 1EE59 1EE5B 1EE5D 1EE5F 1EE61-1EE62 "
    "1EE64 1EE67-1EE6A 1EE6C-1EE72 1EE74-1EE77 1EE79-1EE7C 1EE7E 1EE80-1EE89 1EE8B-1EE9B 1EEA1-1EEA3 1EEA5-1EEA9 "
    "1EEAB-1EEBB 1F130-1F149 1F150-1F169 1F170-1F189 1FBF0-1FBF9 20000-2A6DF 2A700-2B739 2B740-2B81D 2B820-2CEA1 "
    "2CEB0-2EBE0 2EBF0-2EE5D 2F800-2FA1D 30000-3134A 31350-323AF E0100-E01EF "
)
_DIGIT = (
    "30-39 660-669 6F0-6F9 7C0-7C9 966-96F 9E6-9EF A66-A6F AE6-AEF B66-B6F BE6-BEF C66-C6F CE6-CEF D66-D6F DE6-DEF "
    "E50-E59 ED0-ED9 F20-F29 1040-1049 1090-1099 17E0-17E9 1810-1819 1946-194F 19D0-19D9 1A80-1A89 1A90-1A99 "
    "1B50-1B59 1BB0-1BB9 1C40-1C49 1C50-1C59 A620-A629 A8D0-A8D9 A900-A909 A9D0-A9D9 A9F0-A9F9 AA50-AA59 ABF0-ABF9 "
    "FF10-FF19 104A0-104A9 10D30-10D39 10D40-10D49 11066-1106F 110F0-110F9 11136-1113F 111D0-111D9 112F0-112F9 "
    "11450-11459 114D0-114D9 11650-11659 116C0-116C9 116D0-116E3 11730-11739 118E0-118E9 11950-11959 11BF0-11BF9 "
    "11C50-11C59 11D50-11D59 11DA0-11DA9 11F50-11F59 16130-16139 16A60-16A69 16AC0-16AC9 16B50-16B59 16D70-16D79 "
    "1CCF0-1CCF9 1D7CE-1D7FF 1E140-1E149 1E2F0-1E2F9 1E4F0-1E4F9 1E5F1-1E5FA 1E950-1E959 1FBF0-1FBF9 "
)
_SPACE = (
    "9-D 20 85 A0 1680 2000-200A 2028-2029 202F 205F 3000 "
)
_FOLD = (
    "41 61, 42 62, 43 63, 44 64, 45 65, 46 66, 47 67, 48 68, 49 69, 4A 6A, 4B 6B 212A, 4C 6C, 4D 6D, 4E 6E, 4F 6F, "
    "50 70, 51 71, 52 72, 53 73 17F, 54 74, 55 75, 56 76, 57 77, 58 78, 59 79, 5A 7A, B5 39C 3BC, C0 E0, C1 E1, C2 "
    "E2, C3 E3, C4 E4, C5 E5 212B, C6 E6, C7 E7, C8 E8, C9 E9, CA EA, CB EB, CC EC, CD ED, CE EE, CF EF, D0 F0, D1 "
    "F1, D2 F2, D3 F3, D4 F4, D5 F5, D6 F6, D8 F8, D9 F9, DA FA, DB FB, DC FC, DD FD, DE FE, DF 1E9E, FF 178, 100 "
    "101, 102 103, 104 105, 106 107, 108 109, 10A 10B, 10C 10D, 10E 10F, 110 111, 112 113, 114 115, 116 117, 118 "
    "119, 11A 11B, 11C 11D, 11E 11F, 120 121, 122 123, 124 125, 126 127, 128 129, 12A 12B, 12C 12D, 12E 12F, 132 "
    "133, 134 135, 136 137, 139 13A, 13B 13C, 13D 13E, 13F 140, 141 142, 143 144, 145 146, 147 148, 14A 14B, 14C "
    "14D, 14E 14F, 150 151, 152 153, 154 155, 156 157, 158 159, 15A 15B, 15C 15D, 15E 15F, 160 161, 162 163, 164 "
    "165, 166 167, 168 169, 16A 16B, 16C 16D, 16E 16F, 170 171, 172 173, 174 175, 176 177, 179 17A, 17B 17C, 17D "
    "17E, 180 243, 181 253, 182 183, 184 185, 186 254, 187 188, 189 256, 18A 257, 18B 18C, 18E 1DD, 18F 259, 190 "
    "25B, 191 192, 193 260, 194 263, 195 1F6, 196 269, 197 268, 198 199, 19A 23D, 19B A7DC, 19C 26F, 19D 272, 19E "
    "220, 19F 275, 1A0 1A1, 1A2 1A3, 1A4 1A5, 1A6 280, 1A7 1A8, 1A9 283, 1AC 1AD, 1AE 288, 1AF 1B0, 1B1 28A, 1B2 "
    "28B, 1B3 1B4, 1B5 1B6, 1B7 292, 1B8 1B9, 1BC 1BD, 1BF 1F7, 1C4 1C5 1C6, 1C7 1C8 1C9, 1CA 1CB 1CC, 1CD 1CE, 1CF "
    "1D0, 1D1 1D2, 1D3 1D4, 1D5 1D6, 1D7 1D8, 1D9 1DA, 1DB 1DC, 1DE 1DF, 1E0 1E1, 1E2 1E3, 1E4 1E5, 1E6 1E7, 1E8 "
    "1E9, 1EA 1EB, 1EC 1ED, 1EE 1EF, 1F1 1F2 1F3, 1F4 1F5, 1F8 1F9, 1FA 1FB, 1FC 1FD, 1FE 1FF, 200 201, 202 203, "
    "204 205, 206 207, 208 209, 20A 20B, 20C 20D, 20E 20F, 210 211, 212 213, 214 215, 216 217, 218 219, 21A 21B, "
    "21C 21D, 21E 21F, 222 223, 224 225, 226 227, 228 229, 22A 22B, 22C 22D, 22E 22F, 230 231, 232 233, 23A 2C65, "
    "23B 23C, 23E 2C66, 23F 2C7E, 240 2C7F, 241 242, 244 289, 245 28C, 246 247, 248 249, 24A 24B, 24C 24D, 24E 24F, "
    "250 2C6F, 251 2C6D, 252 2C70, 25C A7AB, 261 A7AC, 264 A7CB, 265 A78D, 266 A7AA, 26A A7AE, 26B 2C62, 26C A7AD, "
    "271 2C6E, 27D 2C64, 282 A7C5, 287 A7B1, 29D A7B2, 29E A7B0, 345 399 3B9 1FBE, 370 371, 372 373, 376 377, 37B "
    "3FD, 37C 3FE, 37D 3FF, 37F 3F3, 386 3AC, 388 3AD, 389 3AE, 38A 3AF, 38C 3CC, 38E 3CD, 38F 3CE, 390 1FD3, 391 "
    "3B1, 392 3B2 3D0, 393 3B3, 394 3B4, 395 3B5 3F5, 396 3B6, 397 3B7, 398 3B8 3D1 3F4, 39A 3BA 3F0, 39B 3BB, 39D "
    "3BD, 39E 3BE, 39F 3BF, 3A0 3C0 3D6, 3A1 3C1 3F1, 3A3 3C2 3C3, 3A4 3C4, 3A5 3C5, 3A6 3C6 3D5, 3A7 3C7, 3A8 3C8, "
    "3A9 3C9 2126, 3AA 3CA, 3AB 3CB, 3B0 1FE3, 3CF 3D7, 3D8 3D9, 3DA 3DB, 3DC 3DD, 3DE 3DF, 3E0 3E1, 3E2 3E3, 3E4 "
    "3E5, 3E6 3E7, 3E8 3E9, 3EA 3EB, 3EC 3ED, 3EE 3EF, 3F2 3F9, 3F7 3F8, 3FA 3FB, 400 450, 401 451, 402 452, 403 "
    "453, 404 454, 405 455, 406 456, 407 457, 408 458, 409 459, 40A 45A, 40B 45B, 40C 45C, 40D 45D, 40E 45E, 40F "
    "45F, 410 430, 411 431, 412 432 1C80, 413 433, 414 434 1C81, 415 435, 416 436, 417 437, 418 438, 419 439, 41A "
    "43A, 41B 43B, 41C 43C, 41D 43D, 41E 43E 1C82, 41F 43F, 420 440, 421 441 1C83, 422 442 1C84 1C85, 423 443, 424 "
    "444, 425 445, 426 446, 427 447, 428 448, 429 449, 42A 44A 1C86, 42B 44B, 42C 44C, 42D 44D, 42E 44E, 42F 44F, "
    "460 461, 462 463 1C87, 464 465, 466 467, 468 469, 46A 46B, 46C 46D, 46E 46F, 470 471, 472 473, 474 475, 476 "
    "477, 478 479, 47A 47B, 47C 47D, 47E 47F, 480 481, 48A 48B, 48C 48D, 48E 48F, 490 491, 492 493, 494 495, 496 "
    "497, 498 499, 49A 49B, 49C 49D, 49E 49F, 4A0 4A1, 4A2 4A3, 4A4 4A5, 4A6 4A7, 4A8 4A9, 4AA 4AB, 4AC 4AD, 4AE "
    "4AF, 4B0 4B1, 4B2 4B3, 4B4 4B5, 4B6 4B7, 4B8 4B9, 4BA 4BB, 4BC 4BD, 4BE 4BF, 4C0 4CF, 4C1 4C2, 4C3 4C4, 4C5 "
    "4C6, 4C7 4C8, 4C9 4CA, 4CB 4CC, 4CD 4CE, 4D0 4D1, 4D2 4D3, 4D4 4D5, 4D6 4D7, 4D8 4D9, 4DA 4DB, 4DC 4DD, 4DE "
    "4DF, 4E0 4E1, 4E2 4E3, 4E4 4E5, 4E6 4E7, 4E8 4E9, 4EA 4EB, 4EC 4ED, 4EE 4EF, 4F0 4F1, 4F2 4F3, 4F4 4F5, 4F6 "
    "4F7, 4F8 4F9, 4FA 4FB, 4FC 4FD, 4FE 4FF, 500 501, 502 503, 504 505, 506 507, 508 509, 50A 50B, 50C 50D, 50E "
    "50F, 510 511, 512 513, 514 515, 516 517, 518 519, 51A 51B, 51C 51D, 51E 51F, 520 521, 522 523, 524 525, 526 "
    "527, 528 529, 52A 52B, 52C 52D, 52E 52F, 531 561, 532 562, 533 563, 534 564, 535 565, 536 566, 537 567, 538 "
    "568, 539 569, 53A 56A, 53B 56B, 53C 56C, 53D 56D, 53E 56E, 53F 56F, 540 570, 541 571, 542 572, 543 573, 544 "
    "574, 545 575, 546 576, 547 577, 548 578, 549 579, 54A 57A, 54B 57B, 54C 57C, 54D 57D, 54E 57E, 54F 57F, 550 "
    "580, 551 581, 552 582, 553 583, 554 584, 555 585, 556 586, 10A0 2D00, 10A1 2D01, 10A2 2D02, 10A3 2D03, 10A4 "
    "2D04, 10A5 2D05, 10A6 2D06, 10A7 2D07, 10A8 2D08, 10A9 2D09, 10AA 2D0A, 10AB 2D0B, 10AC 2D0C, 10AD 2D0D, 10AE "
    "2D0E, 10AF 2D0F, 10B0 2D10, 10B1 2D11, 10B2 2D12, 10B3 2D13, 10B4 2D14, 10B5 2D15, 10B6 2D16, 10B7 2D17, 10B8 "
    "2D18, 10B9 2D19, 10BA 2D1A, 10BB 2D1B, 10BC 2D1C, 10BD 2D1D, 10BE 2D1E, 10BF 2D1F, 10C0 2D20, 10C1 2D21, 10C2 "
    "2D22, 10C3 2D23, 10C4 2D24, 10C5 2D25, 10C7 2D27, 10CD 2D2D, 10D0 1C90, 10D1 1C91, 10D2 1C92, 10D3 1C93, 10D4 "
    "1C94, 10D5 1C95, 10D6 1C96, 10D7 1C97, 10D8 1C98, 10D9 1C99, 10DA 1C9A, 10DB 1C9B, 10DC 1C9C, 10DD 1C9D, 10DE "
    "1C9E, 10DF 1C9F, 10E0 1CA0, 10E1 1CA1, 10E2 1CA2, 10E3 1CA3, 10E4 1CA4, 10E5 1CA5, 10E6 1CA6, 10E7 1CA7, 10E8 "
    "1CA8, 10E9 1CA9, 10EA 1CAA, 10EB 1CAB, 10EC 1CAC, 10ED 1CAD, 10EE 1CAE, 10EF 1CAF, 10F0 1CB0, 10F1 1CB1, 10F2 "
    "1CB2, 10F3 1CB3, 10F4 1CB4, 10F5 1CB5, 10F6 1CB6, 10F7 1CB7, 10F8 1CB8, 10F9 1CB9, 10FA 1CBA, 10FD 1CBD, 10FE "
    "1CBE, 10FF 1CBF, 13A0 AB70, 13A1 AB71, 13A2 AB72, 13A3 AB73, 13A4 AB74, 13A5 AB75, 13A6 AB76, 13A7 AB77, 13A8 "
    "AB78, 13A9 AB79, 13AA AB7A, 13AB AB7B, 13AC AB7C, 13AD AB7D, 13AE AB7E, 13AF AB7F, 13B0 AB80, 13B1 AB81, 13B2 "
    "AB82, 13B3 AB83, 13B4 AB84, 13B5 AB85, 13B6 AB86, 13B7 AB87, 13B8 AB88, 13B9 AB89, 13BA AB8A, 13BB AB8B, 13BC "
    "AB8C, 13BD AB8D, 13BE AB8E, 13BF AB8F, 13C0 AB90, 13C1 AB91, 13C2 AB92, 13C3 AB93, 13C4 AB94, 13C5 AB95, 13C6 "
    "AB96, 13C7 AB97, 13C8 AB98, 13C9 AB99, 13CA AB9A, 13CB AB9B, 13CC AB9C, 13CD AB9D, 13CE AB9E, 13CF AB9F, 13D0 "
    "ABA0, 13D1 ABA1, 13D2 ABA2, 13D3 ABA3, 13D4 ABA4, 13D5 ABA5, 13D6 ABA6, 13D7 ABA7, 13D8 ABA8, 13D9 ABA9, 13DA "
    "ABAA, 13DB ABAB, 13DC ABAC, 13DD ABAD, 13DE ABAE, 13DF ABAF, 13E0 ABB0, 13E1 ABB1, 13E2 ABB2, 13E3 ABB3, 13E4 "
    "ABB4, 13E5 ABB5, 13E6 ABB6, 13E7 ABB7, 13E8 ABB8, 13E9 ABB9, 13EA ABBA, 13EB ABBB, 13EC ABBC, 13ED ABBD, 13EE "
    "ABBE, 13EF ABBF, 13F0 13F8, 13F1 13F9, 13F2 13FA, 13F3 13FB, 13F4 13FC, 13F5 13FD, 1C88 A64A A64B, 1C89 1C8A, "
    "1D79 A77D, 1D7D 2C63, 1D8E A7C6, 1E00 1E01, 1E02 1E03, 1E04 1E05, 1E06 1E07, 1E08 1E09, 1E0A 1E0B, 1E0C 1E0D, "
    "1E0E 1E0F, 1E10 1E11, 1E12 1E13, 1E14 1E15, 1E16 1E17, 1E18 1E19, 1E1A 1E1B, 1E1C 1E1D, 1E1E 1E1F, 1E20 1E21, "
    "1E22 1E23, 1E24 1E25, 1E26 1E27, 1E28 1E29, 1E2A 1E2B, 1E2C 1E2D, 1E2E 1E2F, 1E30 1E31, 1E32 1E33, 1E34 1E35, "
    "1E36 1E37, 1E38 1E39, 1E3A 1E3B, 1E3C 1E3D, 1E3E 1E3F, 1E40 1E41, 1E42 1E43, 1E44 1E45, 1E46 1E47, 1E48 1E49, "
    "1E4A 1E4B, 1E4C 1E4D, 1E4E 1E4F, 1E50 1E51, 1E52 1E53, 1E54 1E55, 1E56 1E57, 1E58 1E59, 1E5A 1E5B, 1E5C 1E5D, "
    "1E5E 1E5F, 1E60 1E61 1E9B, 1E62 1E63, 1E64 1E65, 1E66 1E67, 1E68 1E69, 1E6A 1E6B, 1E6C 1E6D, 1E6E 1E6F, 1E70 "
    "1E71, 1E72 1E73, 1E74 1E75, 1E76 1E77, 1E78 1E79, 1E7A 1E7B, 1E7C 1E7D, 1E7E 1E7F, 1E80 1E81, 1E82 1E83, 1E84 "
    "1E85, 1E86 1E87, 1E88 1E89, 1E8A 1E8B, 1E8C 1E8D, 1E8E 1E8F, 1E90 1E91, 1E92 1E93, 1E94 1E95, 1EA0 1EA1, 1EA2 "
    "1EA3, 1EA4 1EA5, 1EA6 1EA7, 1EA8 1EA9, 1EAA 1EAB, 1EAC 1EAD, 1EAE 1EAF, 1EB0 1EB1, 1EB2 1EB3, 1EB4 1EB5, 1EB6 "
    "1EB7, 1EB8 1EB9, 1EBA 1EBB, 1EBC 1EBD, 1EBE 1EBF, 1EC0 1EC1, 1EC2 1EC3, 1EC4 1EC5, 1EC6 1EC7, 1EC8 1EC9, 1ECA "
    "1ECB, 1ECC 1ECD, 1ECE 1ECF, 1ED0 1ED1, 1ED2 1ED3, 1ED4 1ED5, 1ED6 1ED7, 1ED8 1ED9, 1EDA 1EDB, 1EDC 1EDD, 1EDE "
    "1EDF, 1EE0 1EE1, 1EE2 1EE3, 1EE4 1EE5, 1EE6 1EE7, 1EE8 1EE9, 1EEA 1EEB, 1EEC 1EED, 1EEE 1EEF, 1EF0 1EF1, 1EF2 "
    "1EF3, 1EF4 1EF5, 1EF6 1EF7, 1EF8 1EF9, 1EFA 1EFB, 1EFC 1EFD, 1EFE 1EFF, 1F00 1F08, 1F01 1F09, 1F02 1F0A, 1F03 "
    "1F0B, 1F04 1F0C, 1F05 1F0D, 1F06 1F0E, 1F07 1F0F, 1F10 1F18, 1F11 1F19, 1F12 1F1A, 1F13 1F1B, 1F14 1F1C, 1F15 "
    "1F1D, 1F20 1F28, 1F21 1F29, 1F22 1F2A, 1F23 1F2B, 1F24 1F2C, 1F25 1F2D, 1F26 1F2E, 1F27 1F2F, 1F30 1F38, 1F31 "
    "1F39, 1F32 1F3A, 1F33 1F3B, 1F34 1F3C, 1F35 1F3D, 1F36 1F3E, 1F37 1F3F, 1F40 1F48, 1F41 1F49, 1F42 1F4A, 1F43 "
    "1F4B, 1F44 1F4C, 1F45 1F4D, 1F51 1F59, 1F53 1F5B, 1F55 1F5D, 1F57 1F5F, 1F60 1F68, 1F61 1F69, 1F62 1F6A, 1F63 "
    "1F6B, 1F64 1F6C, 1F65 1F6D, 1F66 1F6E, 1F67 1F6F, 1F70 1FBA, 1F71 1FBB, 1F72 1FC8, 1F73 1FC9, 1F74 1FCA, 1F75 "
    "1FCB, 1F76 1FDA, 1F77 1FDB, 1F78 1FF8, 1F79 1FF9, 1F7A 1FEA, 1F7B 1FEB, 1F7C 1FFA, 1F7D 1FFB, 1F80 1F88, 1F81 "
    "1F89, 1F82 1F8A, 1F83 1F8B, 1F84 1F8C, 1F85 1F8D, 1F86 1F8E, 1F87 1F8F, 1F90 1F98, 1F91 1F99, 1F92 1F9A, 1F93 "
    "1F9B, 1F94 1F9C, 1F95 1F9D, 1F96 1F9E, 1F97 1F9F, 1FA0 1FA8, 1FA1 1FA9, 1FA2 1FAA, 1FA3 1FAB, 1FA4 1FAC, 1FA5 "
    "1FAD, 1FA6 1FAE, 1FA7 1FAF, 1FB0 1FB8, 1FB1 1FB9, 1FB3 1FBC, 1FC3 1FCC, 1FD0 1FD8, 1FD1 1FD9, 1FE0 1FE8, 1FE1 "
    "1FE9, 1FE5 1FEC, 1FF3 1FFC, 2132 214E, 2160 2170, 2161 2171, 2162 2172, 2163 2173, 2164 2174, 2165 2175, 2166 "
    "2176, 2167 2177, 2168 2178, 2169 2179, 216A 217A, 216B 217B, 216C 217C, 216D 217D, 216E 217E, 216F 217F, 2183 "
    "2184, 24B6 24D0, 24B7 24D1, 24B8 24D2, 24B9 24D3, 24BA 24D4, 24BB 24D5, 24BC 24D6, 24BD 24D7, 24BE 24D8, 24BF "
    "24D9, 24C0 24DA, 24C1 24DB, 24C2 24DC, 24C3 24DD, 24C4 24DE, 24C5 24DF, 24C6 24E0, 24C7 24E1, 24C8 24E2, 24C9 "
    "24E3, 24CA 24E4, 24CB 24E5, 24CC 24E6, 24CD 24E7, 24CE 24E8, 24CF 24E9, 2C00 2C30, 2C01 2C31, 2C02 2C32, 2C03 "
    "2C33, 2C04 2C34, 2C05 2C35, 2C06 2C36, 2C07 2C37, 2C08 2C38, 2C09 2C39, 2C0A 2C3A, 2C0B 2C3B, 2C0C 2C3C, 2C0D "
    "2C3D, 2C0E 2C3E, 2C0F 2C3F, 2C10 2C40, 2C11 2C41, 2C12 2C42, 2C13 2C43, 2C14 2C44, 2C15 2C45, 2C16 2C46, 2C17 "
    "2C47, 2C18 2C48, 2C19 2C49, 2C1A 2C4A, 2C1B 2C4B, 2C1C 2C4C, 2C1D 2C4D, 2C1E 2C4E, 2C1F 2C4F, 2C20 2C50, 2C21 "
    "2C51, 2C22 2C52, 2C23 2C53, 2C24 2C54, 2C25 2C55, 2C26 2C56, 2C27 2C57, 2C28 2C58, 2C29 2C59, 2C2A 2C5A, 2C2B "
    "2C5B, 2C2C 2C5C, 2C2D 2C5D, 2C2E 2C5E, 2C2F 2C5F, 2C60 2C61, 2C67 2C68, 2C69 2C6A, 2C6B 2C6C, 2C72 2C73, 2C75 "
    "2C76, 2C80 2C81, 2C82 2C83, 2C84 2C85, 2C86 2C87, 2C88 2C89, 2C8A 2C8B, 2C8C 2C8D, 2C8E 2C8F, 2C90 2C91, 2C92 "
    "2C93, 2C94 2C95, 2C96 2C97, 2C98 2C99, 2C9A 2C9B, 2C9C 2C9D, 2C9E 2C9F, 2CA0 2CA1, 2CA2 2CA3, 2CA4 2CA5, 2CA6 "
    "2CA7, 2CA8 2CA9, 2CAA 2CAB, 2CAC 2CAD, 2CAE 2CAF, 2CB0 2CB1, 2CB2 2CB3, 2CB4 2CB5, 2CB6 2CB7, 2CB8 2CB9, 2CBA "
    "2CBB, 2CBC 2CBD, 2CBE 2CBF, 2CC0 2CC1, 2CC2 2CC3, 2CC4 2CC5, 2CC6 2CC7, 2CC8 2CC9, 2CCA 2CCB, 2CCC 2CCD, 2CCE "
    "2CCF, 2CD0 2CD1, 2CD2 2CD3, 2CD4 2CD5, 2CD6 2CD7, 2CD8 2CD9, 2CDA 2CDB, 2CDC 2CDD, 2CDE 2CDF, 2CE0 2CE1, 2CE2 "
    "2CE3, 2CEB 2CEC, 2CED 2CEE, 2CF2 2CF3, A640 A641, A642 A643, A644 A645, A646 A647, A648 A649, A64C A64D, A64E "
    "A64F, A650 A651, A652 A653, A654 A655, A656 A657, A658 A659, A65A A65B, A65C A65D, A65E A65F, A660 A661, A662 "
    "A663, A664 A665, A666 A667, A668 A669, A66A A66B, A66C A66D, A680 A681, A682 A683, A684 A685, A686 A687, A688 "
    "A689, A68A A68B, A68C A68D, A68E A68F, A690 A691, A692 A693, A694 A695, A696 A697, A698 A699, A69A A69B, A722 "
    "A723, A724 A725, A726 A727, A728 A729, A72A A72B, A72C A72D, A72E A72F, A732 A733, A734 A735, A736 A737, A738 "
    "A739, A73A A73B, A73C A73D, A73E A73F, A740 A741, A742 A743, A744 A745, A746 A747, A748 A749, A74A A74B, A74C "
    "A74D, A74E A74F, A750 A751, A752 A753, A754 A755, A756 A757, A758 A759, A75A A75B, A75C A75D, A75E A75F, A760 "
    "A761, A762 A763, A764 A765, A766 A767, A768 A769, A76A A76B, A76C A76D, A76E A76F, A779 A77A, A77B A77C, A77E "
    "A77F, A780 A781, A782 A783, A784 A785, A786 A787, A78B A78C, A790 A791, A792 A793, A794 A7C4, A796 A797, A798 "
    "A799, A79A A79B, A79C A79D, A79E A79F, A7A0 A7A1, A7A2 A7A3, A7A4 A7A5, A7A6 A7A7, A7A8 A7A9, A7B3 AB53, A7B4 "
    "A7B5, A7B6 A7B7, A7B8 A7B9, A7BA A7BB, A7BC A7BD, A7BE A7BF, A7C0 A7C1, A7C2 A7C3, A7C7 A7C8, A7C9 A7CA, A7CC "
    "A7CD, A7D0 A7D1, A7D6 A7D7, A7D8 A7D9, A7DA A7DB, A7F5 A7F6, FB05 FB06, FF21 FF41, FF22 FF42, FF23 FF43, FF24 "
    "FF44, FF25 FF45, FF26 FF46, FF27 FF47, FF28 FF48, FF29 FF49, FF2A FF4A, FF2B FF4B, FF2C FF4C, FF2D FF4D, FF2E "
    "FF4E, FF2F FF4F, FF30 FF50, FF31 FF51, FF32 FF52, FF33 FF53, FF34 FF54, FF35 FF55, FF36 FF56, FF37 FF57, FF38 "
    "FF58, FF39 FF59, FF3A FF5A, 10400 10428, 10401 10429, 10402 1042A, 10403 1042B, 10404 1042C, 10405 1042D, "
    "10406 1042E, 10407 1042F, 10408 10430, 10409 10431, 1040A 10432, 1040B 10433, 1040C 10434, 1040D 10435, 1040E "
    "10436, 1040F 10437, 10410 10438, 10411 10439, 10412 1043A, 10413 1043B, 10414 1043C, 10415 1043D, 10416 1043E, "
    "10417 1043F, 10418 10440, 10419 10441, 1041A 10442, 1041B 10443, 1041C 10444, 1041D 10445, 1041E 10446, 1041F "
    "10447, 10420 10448, 10421 10449, 10422 1044A, 10423 1044B, 10424 1044C, 10425 1044D, 10426 1044E, 10427 1044F, "
    "104B0 104D8, 104B1 104D9, 104B2 104DA, 104B3 104DB, 104B4 104DC, 104B5 104DD, 104B6 104DE, 104B7 104DF, 104B8 "
    "104E0, 104B9 104E1, 104BA 104E2, 104BB 104E3, 104BC 104E4, 104BD 104E5, 104BE 104E6, 104BF 104E7, 104C0 104E8, "
    "104C1 104E9, 104C2 104EA, 104C3 104EB, 104C4 104EC, 104C5 104ED, 104C6 104EE, 104C7 104EF, 104C8 104F0, 104C9 "
    "104F1, 104CA 104F2, 104CB 104F3, 104CC 104F4, 104CD 104F5, 104CE 104F6, 104CF 104F7, 104D0 104F8, 104D1 104F9, "
    "104D2 104FA, 104D3 104FB, 10570 10597, 10571 10598, 10572 10599, 10573 1059A, 10574 1059B, 10575 1059C, 10576 "
    "1059D, 10577 1059E, 10578 1059F, 10579 105A0, 1057A 105A1, 1057C 105A3, 1057D 105A4, 1057E 105A5, 1057F 105A6, "
    "10580 105A7, 10581 105A8, 10582 105A9, 10583 105AA, 10584 105AB, 10585 105AC, 10586 105AD, 10587 105AE, 10588 "
    "105AF, 10589 105B0, 1058A 105B1, 1058C 105B3, 1058D 105B4, 1058E 105B5, 1058F 105B6, 10590 105B7, 10591 105B8, "
    "10592 105B9, 10594 105BB, 10595 105BC, 10C80 10CC0, 10C81 10CC1, 10C82 10CC2, 10C83 10CC3, 10C84 10CC4, 10C85 "
    "10CC5, 10C86 10CC6, 10C87 10CC7, 10C88 10CC8, 10C89 10CC9, 10C8A 10CCA, 10C8B 10CCB, 10C8C 10CCC, 10C8D 10CCD, "
    "10C8E 10CCE, 10C8F 10CCF, 10C90 10CD0, 10C91 10CD1, 10C92 10CD2, 10C93 10CD3, 10C94 10CD4, 10C95 10CD5, 10C96 "
    "10CD6, 10C97 10CD7, 10C98 10CD8, 10C99 10CD9, 10C9A 10CDA, 10C9B 10CDB, 10C9C 10CDC, 10C9D 10CDD, 10C9E 10CDE, "
    "10C9F 10CDF, 10CA0 10CE0, 10CA1 10CE1, 10CA2 10CE2, 10CA3 10CE3, 10CA4 10CE4, 10CA5 10CE5, 10CA6 10CE6, 10CA7 "
    "10CE7, 10CA8 10CE8, 10CA9 10CE9, 10CAA 10CEA, 10CAB 10CEB, 10CAC 10CEC, 10CAD 10CED, 10CAE 10CEE, 10CAF 10CEF, "
    "10CB0 10CF0, 10CB1 10CF1, 10CB2 10CF2, 10D50 10D70, 10D51 10D71, 10D52 10D72, 10D53 10D73, 10D54 10D74, 10D55 "
    "10D75, 10D56 10D76, 10D57 10D77, 10D58 10D78, 10D59 10D79, 10D5A 10D7A, 10D5B 10D7B, 10D5C 10D7C, 10D5D 10D7D, "
    "10D5E 10D7E, 10D5F 10D7F, 10D60 10D80, 10D61 10D81, 10D62 10D82, 10D63 10D83, 10D64 10D84, 10D65 10D85, 118A0 "
    "118C0, 118A1 118C1, 118A2 118C2, 118A3 118C3, 118A4 118C4, 118A5 118C5, 118A6 118C6, 118A7 118C7, 118A8 118C8, "
    "118A9 118C9, 118AA 118CA, 118AB 118CB, 118AC 118CC, 118AD 118CD, 118AE 118CE, 118AF 118CF, 118B0 118D0, 118B1 "
    "118D1, 118B2 118D2, 118B3 118D3, 118B4 118D4, 118B5 118D5, 118B6 118D6, 118B7 118D7, 118B8 118D8, 118B9 118D9, "
    "118BA 118DA, 118BB 118DB, 118BC 118DC, 118BD 118DD, 118BE 118DE, 118BF 118DF, 16E40 16E60, 16E41 16E61, 16E42 "
    "16E62, 16E43 16E63, 16E44 16E64, 16E45 16E65, 16E46 16E66, 16E47 16E67, 16E48 16E68, 16E49 16E69, 16E4A 16E6A, "
    "16E4B 16E6B, 16E4C 16E6C, 16E4D 16E6D, 16E4E 16E6E, 16E4F 16E6F, 16E50 16E70, 16E51 16E71, 16E52 16E72, 16E53 "
    "16E73, 16E54 16E74, 16E55 16E75, 16E56 16E76, 16E57 16E77, 16E58 16E78, 16E59 16E79, 16E5A 16E7A, 16E5B 16E7B, "
    "16E5C 16E7C, 16E5D 16E7D, 16E5E 16E7E, 16E5F 16E7F, 1E900 1E922, 1E901 1E923, 1E902 1E924, 1E903 1E925, 1E904 "
    "1E926, 1E905 1E927, 1E906 1E928, 1E907 1E929, 1E908 1E92A, 1E909 1E92B, 1E90A 1E92C, 1E90B 1E92D, 1E90C 1E92E, "
    "1E90D 1E92F, 1E90E 1E930, 1E90F 1E931, 1E910 1E932, 1E911 1E933, 1E912 1E934, 1E913 1E935, 1E914 1E936, 1E915 "
    "1E937, 1E916 1E938, 1E917 1E939, 1E918 1E93A, 1E919 1E93B, 1E91A 1E93C, 1E91B 1E93D, 1E91C 1E93E, 1E91D 1E93F, "
    "1E91E 1E940, 1E91F 1E941, 1E920 1E942, 1E921 1E943 "
)


def _decode_ranges(text: str) -> Ranges:
    out = []
    for item in text.split():
        lo, _, hi = item.partition("-")
        out.append((int(lo, 16), int(hi or lo, 16)))
    return _norm(out)


def _norm(ranges) -> Ranges:
    """Sort, merge and drop surrogates."""
    items = []
    for lo, hi in ranges:
        if lo > hi:
            continue
        if lo <= _SURROGATES[1] and hi >= _SURROGATES[0]:
            if lo < _SURROGATES[0]:
                items.append((lo, _SURROGATES[0] - 1))
            if hi > _SURROGATES[1]:
                items.append((_SURROGATES[1] + 1, hi))
        else:
            items.append((lo, hi))
    items.sort()
    out: list[list[int]] = []
    for lo, hi in items:
        if out and lo <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], hi)
        else:
            out.append([lo, hi])
    return tuple((lo, hi) for lo, hi in out)


def _complement(ranges: Ranges) -> Ranges:
    out = []
    prev = 0
    for lo, hi in ranges:
        if lo > prev:
            out.append((prev, lo - 1))
        prev = hi + 1
    if prev <= _MAX_CP:
        out.append((prev, _MAX_CP))
    return _norm(out)


def _contains(ranges: Ranges, cp: int) -> bool:
    i = bisect.bisect_right(ranges, (cp, _MAX_CP + 1)) - 1
    return i >= 0 and ranges[i][0] <= cp <= ranges[i][1]


WORD: Ranges = _decode_ranges(_WORD)
DIGIT: Ranges = _decode_ranges(_DIGIT)
SPACE: Ranges = _decode_ranges(_SPACE)
ANY: Ranges = _norm([(0, _MAX_CP)])
DOT: Ranges = _complement(((10, 10),))  # '.' without the s flag: anything but '\n'
_ORBITS: tuple[tuple[int, ...], ...] = tuple(
    tuple(int(h, 16) for h in group.split()) for group in _FOLD.split(",") if group.strip()
)
_FOLD_MEMBERS: tuple[tuple[int, tuple[int, ...]], ...] = tuple(sorted((cp, o) for o in _ORBITS for cp in o))
_ORBIT_OF: dict[int, tuple[int, ...]] = dict(_FOLD_MEMBERS)
_SHORTHANDS = {
    "d": DIGIT, "D": _complement(DIGIT), "w": WORD, "W": _complement(WORD), "s": SPACE, "S": _complement(SPACE),
}


def case_fold(ranges: Ranges) -> Ranges:
    """Close a set under Rust's simple case folding (what ``(?i)`` does to a class)."""
    extra = []
    for cp, orbit in _FOLD_MEMBERS:
        if _contains(ranges, cp):
            extra.extend((m, m) for m in orbit)
    return _norm([*ranges, *extra]) if extra else ranges


# --------------------------------------------------------------------------- syntax tree


@dataclass(frozen=True)
class _Set:
    ranges: Ranges


@dataclass(frozen=True)
class _Cat:
    items: tuple


@dataclass(frozen=True)
class _Alt:
    items: tuple


@dataclass(frozen=True)
class _Rep:
    body: object
    lo: int
    hi: int | None
    greedy: bool


@dataclass(frozen=True)
class _Group:
    body: object
    index: int | None
    name: str | None


@dataclass(frozen=True)
class _Look:
    kind: str  # start, end, line_start, line_end, word, not_word


_Node = Union[_Set, _Cat, _Alt, _Rep, _Group, _Look]


@dataclass(frozen=True)
class _Flags:
    i: bool = False
    s: bool = False
    m: bool = False
    x: bool = False


# Rust's char::is_whitespace (White_Space): what (?x) skips.
_WHITESPACE = frozenset(chr(cp) for lo, hi in SPACE for cp in range(lo, hi + 1))
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PUNCT = frozenset("!\"#$%&'()*+,-./:;=?@[\\]^_`{|}~")  # ASCII punctuation both engines let \ escape (not < >)
_SIMPLE_ESCAPES = {"n": 10, "t": 9, "r": 13, "f": 12, "v": 11, "a": 7}


class _Parser:
    def __init__(self, pattern: str):
        self.p = pattern
        self.n = len(pattern)
        self.i = 0
        self.groups = 0
        self.names: dict[str, int] = {}

    # --- helpers ---------------------------------------------------------------------
    def fail(self, what: str, at: int | None = None) -> RegexDialectError:
        pos = self.i if at is None else at
        return RegexDialectError(f"regex {self.p!r}: {what} (at position {pos})")

    def peek(self, k: int = 0) -> str | None:
        j = self.i + k
        return self.p[j] if j < self.n else None

    def startswith(self, text: str) -> bool:
        return self.p.startswith(text, self.i)

    def skip(self, flags: _Flags) -> None:
        """In verbose mode, skip whitespace and ``#`` comments."""
        if not flags.x:
            return
        while self.i < self.n:
            c = self.p[self.i]
            if c in _WHITESPACE:
                self.i += 1
            elif c == "#":
                end = self.p.find("\n", self.i)
                self.i = self.n if end < 0 else end + 1
            else:
                break

    # --- grammar ---------------------------------------------------------------------
    def parse(self) -> _Node:
        flags = _Flags()
        while True:
            m = re.compile(r"\(\?([A-Za-z-]*)\)").match(self.p, self.i)
            if not m:
                break
            flags = self.flag_letters(m.group(1), flags, self.i)
            self.i = m.end()
            self.skip(flags)
        node = self.alternation(flags)
        if self.i < self.n:
            raise self.fail("unbalanced ')'")
        return node

    def flag_letters(self, letters: str, flags: _Flags, at: int) -> _Flags:
        on, _, off = letters.partition("-")
        if "-" in off or not (on or off) or letters.endswith("-"):
            raise self.fail(f"malformed flags '(?{letters}'", at)
        values = {"i": flags.i, "s": flags.s, "m": flags.m, "x": flags.x}
        for letters_, value in ((on, True), (off, False)):
            for f in letters_:
                if f not in values:
                    hint = {
                        "U": "Rust's swap-greed flag", "u": "Rust's Unicode flag", "R": "Rust's CRLF flag",
                        "a": "Python's ASCII flag", "L": "Python's locale flag",
                    }.get(f, "unknown flag")
                    raise self.fail(f"flag {f!r} ({hint}) is not supported; use i, s, m or x", at)
                values[f] = value
        return _Flags(**values)

    def alternation(self, flags: _Flags) -> _Node:
        branches = [self.concatenation(flags)]
        while self.peek() == "|":
            self.i += 1
            branches.append(self.concatenation(flags))
        return branches[0] if len(branches) == 1 else _Alt(tuple(branches))

    def concatenation(self, flags: _Flags) -> _Node:
        items: list[_Node] = []
        while True:
            self.skip(flags)
            c = self.peek()
            if c is None or c in "|)":
                break
            start = self.i
            atom = self.atom(flags)
            self.skip(flags)
            q = self.quantifier(flags)
            if q is not None:
                if isinstance(atom, _Look):
                    raise self.fail("a quantifier on an anchor or word boundary is not supported", start)
                atom = _Rep(atom, *q)
                self.skip(flags)
                if self.peek() in ("*", "+", "?") or (self.peek() == "{" and self.counted(flags, probe=True)):
                    what = (
                        "possessive quantifier" if self.peek() == "+" else "a quantifier applied to a quantifier"
                    )
                    raise self.fail(f"{what} is not supported (Rust and Python read it differently);"
                                    " wrap the inner part in (?:...)")
            items.append(atom)
        return items[0] if len(items) == 1 else _Cat(tuple(items))

    def quantifier(self, flags: _Flags):
        c = self.peek()
        if c == "*":
            lo, hi = 0, None
            self.i += 1
        elif c == "+":
            lo, hi = 1, None
            self.i += 1
        elif c == "?":
            lo, hi = 0, 1
            self.i += 1
        elif c == "{":
            lo, hi = self.counted(flags)
        else:
            return None
        self.skip(flags)
        greedy = True
        if self.peek() == "?":
            self.i += 1
            greedy = False
        return lo, hi, greedy

    def counted(self, flags: _Flags, probe: bool = False):
        """Parse ``{n}``, ``{n,}`` or ``{n,m}`` (whitespace allowed inside in verbose mode)."""
        start = self.i
        self.i += 1

        def number():
            self.skip(flags)
            j = self.i
            while self.i < self.n and self.p[self.i] in "0123456789":
                self.i += 1
            text = self.p[j:self.i]
            self.skip(flags)
            return int(text) if text else None

        lo = number()
        hi = lo
        comma = False
        if self.peek() == ",":
            comma = True
            self.i += 1
            hi = number()
        ok = self.peek() == "}"
        if probe:
            self.i = start
            return ok and lo is not None
        if not ok or lo is None:
            if ok and comma and lo is None:
                raise self.fail("'{,n}' is not supported (Python reads it as {0,n}, Rust refuses it); write {0,n}", start)
            raise self.fail("'{' must start a repetition {n}, {n,} or {n,m}; write a literal brace as \\{", start)
        self.i += 1
        if not comma:
            hi = lo
        if hi is not None and hi < lo:
            raise self.fail(f"repetition {{{lo},{hi}}} has min > max", start)
        if lo > MAX_REPEAT or (hi is not None and hi > MAX_REPEAT):
            raise self.fail(f"repetition counts above {MAX_REPEAT} are not supported", start)
        return lo, hi

    def literal(self, cp: int, flags: _Flags) -> _Set:
        orbit = _ORBIT_OF.get(cp) if flags.i else None
        return _Set(_norm((c, c) for c in orbit) if orbit else ((cp, cp),))

    def atom(self, flags: _Flags) -> _Node:
        c = self.p[self.i]
        if c == "(":
            return self.group(flags)
        if c == "[":
            return self.char_class(flags)
        if c == ".":
            self.i += 1
            return _Set(ANY if flags.s else DOT)
        if c == "^":
            self.i += 1
            return _Look("line_start" if flags.m else "start")
        if c == "$":
            self.i += 1
            return _Look("line_end" if flags.m else "end")
        if c == "\\":
            item = self.escape(flags, in_class=False)
            if isinstance(item, int):
                return self.literal(item, flags)
            return item
        if c in "*+?":
            raise self.fail(f"quantifier {c!r} has nothing to repeat")
        if c == "{":
            raise self.fail("'{' must follow something to repeat; write a literal brace as \\{")
        self.i += 1
        return self.literal(ord(c), flags)

    def group(self, flags: _Flags) -> _Node:
        start = self.i
        self.i += 1
        index = name = None
        if self.peek() == "?":
            self.i += 1
            refused = [
                ("=", "look-ahead (?=...)"), ("!", "negative look-ahead (?!...)"),
                ("<=", "look-behind (?<=...)"), ("<!", "negative look-behind (?<!...)"),
                ("P=", "backreference (?P=name)"), ("P>", "recursion (?P>name)"), (">", "atomic group (?>...)"),
                ("#", "comment group (?#...)"), ("(", "conditional (?(...)...)"), ("|", "branch reset (?|...)"),
                ("R)", "recursion (?R)"),
            ]
            for prefix, what in refused:
                if self.startswith(prefix):
                    raise self.fail(f"{what} is not supported", start)
            if self.startswith(":"):
                self.i += 1
            elif self.startswith("P<") or self.startswith("<"):
                self.i += 2 if self.startswith("P<") else 1
                m = _NAME.match(self.p, self.i)
                end = self.p.find(">", self.i)
                if not m or m.end() != end:
                    raise self.fail("group names must match [A-Za-z_][A-Za-z0-9_]* and end with '>'", start)
                name = m.group()
                if name in self.names:
                    raise self.fail(f"duplicate group name {name!r}", start)
                self.groups += 1
                index = self.groups
                self.names[name] = index
                self.i = end + 1
            else:
                m = re.compile(r"([A-Za-z-]*)([:)])").match(self.p, self.i)
                if not m:
                    raise self.fail("unknown group syntax '(?'", start)
                new = self.flag_letters(m.group(1), flags, start)
                if m.group(2) == ")":
                    raise self.fail(
                        f"inline flags '(?{m.group(1)})' are only supported at the very start of the pattern;"
                        f" use a scoped group '(?{m.group(1)}:...)'",
                        start,
                    )
                self.i = m.end()
                flags = new
        else:
            self.groups += 1
            index = self.groups
        body = self.alternation(flags)
        if self.peek() != ")":
            raise self.fail("unclosed group '('", start)
        self.i += 1
        return _Group(body, index, name)

    def hex_escape(self, kind: str, start: int) -> int:
        width = {"x": 2, "u": 4, "U": 8}[kind]
        if self.peek() == "{":
            end = self.p.find("}", self.i)
            digits = self.p[self.i + 1:end] if end > 0 else ""
            self.i = end + 1 if end > 0 else self.n
        else:
            digits = self.p[self.i:self.i + width]
            if len(digits) != width:
                digits = ""
            self.i += width
        if not digits or len(digits) > 8 or not all(d in "0123456789abcdefABCDEF" for d in digits):
            raise self.fail(f"malformed escape \\{kind}", start)
        cp = int(digits, 16)
        if cp > _MAX_CP or _SURROGATES[0] <= cp <= _SURROGATES[1]:
            raise self.fail(f"escape \\{kind} names no Unicode scalar value", start)
        return cp

    def escape(self, flags: _Flags, in_class: bool):
        """Parse an escape; returns a code point, a ``_Set`` (shorthand class) or a ``_Look``."""
        start = self.i
        self.i += 1
        c = self.peek()
        if c is None:
            raise self.fail("trailing backslash", start)
        self.i += 1
        if c in _SHORTHANDS:
            return _Set(_SHORTHANDS[c])
        if c in _SIMPLE_ESCAPES:
            return _SIMPLE_ESCAPES[c]
        if c in "xuU":
            return self.hex_escape(c, start)
        if c in "bB" and not in_class:
            if self.peek() == "{":
                raise self.fail("special word boundaries \\b{...} are not supported", start)
            return _Look("word" if c == "b" else "not_word")
        what = {
            "b": "\\b inside a class (backspace in Python, an error in Rust)",
            "A": "\\A (write ^)", "z": "\\z (write $)", "Z": "\\Z (write $)", "G": "\\G",
            "p": "Unicode property classes \\p{...}", "P": "Unicode property classes \\P{...}",
            "0": "octal escapes", "k": "backreferences \\k<name>", "g": "backreferences \\g<...>",
            "<": "\\< (a word start in Rust, a literal '<' in Python)",
            ">": "\\> (a word end in Rust, a literal '>' in Python)",
            "Q": "quoting \\Q...\\E", "N": "named characters \\N{...}", "c": "control escapes \\cX",
            "o": "octal escapes \\o{...}",
        }.get(c)
        if what is None and c in "123456789":
            what = "backreferences \\1..\\9"
        if what is not None:
            raise self.fail(f"{what} is not supported", start)
        if c in _PUNCT or c == " ":
            return ord(c)
        if c.isascii() and c.isalnum():
            raise self.fail(f"unknown escape \\{c} is not supported", start)
        raise self.fail(f"escaping {c!r} is not supported (only ASCII punctuation may be escaped)", start)

    def class_skip(self, flags: _Flags) -> None:
        if flags.x:
            while self.peek() is not None and self.peek() in _WHITESPACE:
                self.i += 1
            if self.peek() == "#":
                raise self.fail("'#' inside a class in verbose mode (Rust starts a comment there); escape it as \\#")

    def char_class(self, flags: _Flags) -> _Set:
        start = self.i
        self.i += 1
        negated = self.peek() == "^"
        if negated:
            self.i += 1
        ranges: list[tuple[int, int]] = []
        first = True
        while True:
            self.class_skip(flags)
            c = self.peek()
            if c is None:
                raise self.fail("unclosed class '['", start)
            if c == "]" and not first:
                self.i += 1
                break
            if c == "[":
                if self.peek(1) == ":":
                    raise self.fail("POSIX classes like [:alpha:] are not supported")
                raise self.fail("a nested class '[' inside a class is not supported; escape it as \\[")
            two = self.p[self.i:self.i + 2]
            if two in ("&&", "--", "~~"):
                raise self.fail(f"class set operation '{two}' is not supported")
            if c == "-" and not first and self.peek(1) != "]":
                raise self.fail("ambiguous '-' in a class; escape it as \\-")
            item_start = self.i
            lo = self.class_atom(flags)
            first = False
            save = self.i
            self.class_skip(flags)
            if self.peek() == "-" and self.peek(1) not in (None, "]"):
                self.i += 1
                self.class_skip(flags)
                if self.peek() in (None, "]"):
                    raise self.fail("ambiguous '-' in a class; escape it as \\-")
                hi = self.class_atom(flags)
                if isinstance(lo, _Set) or isinstance(hi, _Set):
                    raise self.fail("a class like \\d cannot be a range bound", item_start)
                if hi < lo:
                    raise self.fail(f"invalid class range {chr(lo)!r}-{chr(hi)!r}", item_start)
                ranges.append((lo, hi))
                continue
            self.i = save
            if isinstance(lo, _Set):
                ranges.extend(lo.ranges)
            else:
                ranges.append((lo, lo))
        result = _norm(ranges)
        if flags.i:
            result = case_fold(result)
        if negated:
            result = _complement(result)
        if not result:
            raise self.fail("the class matches no character", start)
        return _Set(result)

    def class_atom(self, flags: _Flags):
        """One class member: a code point, or a ``_Set`` for ``\\d``-style escapes."""
        if self.peek() == "\\":
            return self.escape(flags, in_class=True)
        c = self.p[self.i]
        self.i += 1
        return ord(c)


# --------------------------------------------------------------------------- analysis


def _min_width(node: _Node) -> int:
    if isinstance(node, _Set):
        return 1
    if isinstance(node, _Look):
        return 0
    if isinstance(node, _Group):
        return _min_width(node.body)
    if isinstance(node, _Cat):
        return sum(_min_width(i) for i in node.items)
    if isinstance(node, _Alt):
        return min(_min_width(i) for i in node.items)
    if isinstance(node, _Rep):
        return node.lo * _min_width(node.body)
    raise AssertionError(node)


def _has_capture(node: _Node) -> bool:
    if isinstance(node, _Group):
        return node.index is not None or _has_capture(node.body)
    if isinstance(node, (_Cat, _Alt)):
        return any(_has_capture(i) for i in node.items)
    if isinstance(node, _Rep):
        return _has_capture(node.body)
    return False


def _check(node: _Node, pattern: str) -> None:
    if isinstance(node, _Rep):
        if (node.hi is None or node.hi > 1) and _min_width(node.body) == 0 and _has_capture(node.body):
            raise RegexDialectError(
                f"regex {pattern!r}: a capture group inside a repetition whose body can match the empty"
                " string (like (a?)* or (a|)+) is not supported: Python captures an extra empty iteration"
                " that Rust does not; make the body non-empty or the group non-capturing (?:...)"
            )
        _check(node.body, pattern)
    elif isinstance(node, _Group):
        _check(node.body, pattern)
    elif isinstance(node, (_Cat, _Alt)):
        for i in node.items:
            _check(i, pattern)


def _as_literal(node: _Node) -> str | None:
    """The plain string a pattern matches, when it is one (no class, anchor, repetition or capture)."""
    if isinstance(node, _Set):
        (lo, hi), *rest = node.ranges
        return chr(lo) if lo == hi and not rest else None
    if isinstance(node, _Cat):
        parts = [_as_literal(i) for i in node.items]
        return None if any(p is None for p in parts) else "".join(parts)  # type: ignore[arg-type]
    if isinstance(node, _Group) and node.index is None:
        return _as_literal(node.body)
    return None


# --------------------------------------------------------------------------- writing patterns


def _char(cp: int, rust: bool) -> str:
    c = chr(cp)
    if c.isascii():
        if c.isalnum() or c in "_<> ":
            return c
        if c in _PUNCT:
            return "\\" + c
    elif c.isprintable() and not c.isspace():
        return c
    if rust:
        return f"\\x{{{cp:X}}}"
    if cp < 0x100:
        return f"\\x{cp:02x}"
    return f"\\u{cp:04x}" if cp < 0x10000 else f"\\U{cp:08x}"


def _class_body(ranges: Ranges, rust: bool) -> str:
    out = []
    for lo, hi in ranges:
        if lo == hi:
            out.append(_char(lo, rust))
        elif hi == lo + 1:
            out.append(_char(lo, rust) + _char(hi, rust))
        else:
            out.append(f"{_char(lo, rust)}-{_char(hi, rust)}")
    return "".join(out)


def _set_text(ranges: Ranges, rust: bool) -> str:
    if ranges == ANY:
        return "(?s:.)"
    if ranges == DOT:
        return "."
    if len(ranges) == 1 and ranges[0][0] == ranges[0][1]:
        return _char(ranges[0][0], rust)
    comp = _complement(ranges)
    if len(comp) < len(ranges):
        return f"[^{_class_body(comp, rust)}]"
    return f"[{_class_body(ranges, rust)}]"


@functools.lru_cache(maxsize=None)
def _python_word() -> str:
    return _set_text(WORD, rust=False)


def _look_text(kind: str, rust: bool) -> str:
    if rust:
        return {"start": "\\A", "end": "\\z", "line_start": "(?m:^)", "line_end": "(?m:$)",
                "word": "\\b", "not_word": "\\B"}[kind]
    if kind in ("word", "not_word"):
        w = _python_word()
        if kind == "word":
            return f"(?:(?<={w})(?!{w})|(?<!{w})(?={w}))"
        return f"(?:(?<={w})(?={w})|(?<!{w})(?!{w}))"
    return {"start": "\\A", "end": "\\Z", "line_start": "(?m:^)", "line_end": "(?m:$)"}[kind]


def _write(node: _Node, rust: bool) -> str:
    if isinstance(node, _Set):
        return _set_text(node.ranges, rust)
    if isinstance(node, _Look):
        return _look_text(node.kind, rust)
    if isinstance(node, _Cat):
        return "".join(f"(?:{_write(i, rust)})" if isinstance(i, _Alt) else _write(i, rust) for i in node.items)
    if isinstance(node, _Alt):
        return "|".join(_write(i, rust) for i in node.items)
    if isinstance(node, _Group):
        body = _write(node.body, rust)
        if node.index is None:
            return f"(?:{body})"
        return f"(?P<{node.name}>{body})" if node.name else f"({body})"
    if isinstance(node, _Rep):
        body = _write(node.body, rust)
        atomic = isinstance(node.body, _Group) or (isinstance(node.body, _Set) and not body.startswith("(?"))
        if not atomic:
            body = f"(?:{body})"
        if (node.lo, node.hi) == (0, None):
            q = "*"
        elif (node.lo, node.hi) == (1, None):
            q = "+"
        elif (node.lo, node.hi) == (0, 1):
            q = "?"
        elif node.hi is None:
            q = f"{{{node.lo},}}"
        elif node.lo == node.hi:
            q = f"{{{node.lo}}}"
        else:
            q = f"{{{node.lo},{node.hi}}}"
        return body + q + ("" if node.greedy else "?")
    raise AssertionError(node)


# --------------------------------------------------------------------------- public API


@dataclass(frozen=True)
class Regex:
    """A pattern of the shared dialect, written for each engine.

    Attributes
    ----------
    pattern : the pattern as the user wrote it
    rust : the pattern to give polars
    python : the pattern to give :func:`re.compile` (no flags)
    groups : number of capture groups
    names : ``((name, index), ...)`` of the named groups
    can_match_empty : whether some match may be empty (Rust and Python iterate differently then)
    literal : the plain string the pattern matches, when it is one (else None)
    """

    pattern: str
    rust: str
    python: str
    groups: int
    names: tuple[tuple[str, int], ...]
    can_match_empty: bool
    literal: str | None

    def compiled(self) -> "re.Pattern[str]":
        return re.compile(self.python)


@functools.lru_cache(maxsize=1024)
def translate(pattern: str) -> Regex:
    """Parse ``pattern`` (Rust syntax) and write it for both engines; raise :class:`RegexDialectError`.

    Examples
    --------
    >>> translate(r"^\\d+$").python == r"\\A" + translate(r"\\d").python + r"+\\Z"
    True
    >>> translate("a.c").literal is None, translate(r"a\\.c").literal
    (True, 'a.c')
    """
    if not isinstance(pattern, str):
        raise RegexDialectError(f"a regex pattern must be a str, got {type(pattern).__name__}")
    parser = _Parser(pattern)
    tree = parser.parse()
    _check(tree, pattern)
    out = Regex(
        pattern=pattern,
        rust=_write(tree, rust=True),
        python=_write(tree, rust=False),
        groups=parser.groups,
        names=tuple(sorted(parser.names.items(), key=lambda kv: kv[1])),
        can_match_empty=_min_width(tree) == 0,
        literal=_as_literal(tree),
    )
    try:
        re.compile(out.python)
    except re.error as exc:  # pragma: no cover - a bug in the writer, not in the user's pattern
        raise RegexDialectError(f"regex {pattern!r}: internal translation error: {exc}") from None
    return out


# --------------------------------------------------------------------------- replacement strings

Piece = Union[str, int]


def parse_replacement(value: str, regex: Regex) -> tuple[Piece, ...]:
    """Parse a replacement string with Rust's rules into literal text and group numbers.

    Rust's ``regex`` expands ``$$`` to ``$``, ``${name}`` and ``$name`` to a
    group, where an unbraced name is the longest run of ``[_0-9A-Za-z]`` (so
    ``$1a`` names the group ``1a``, which does not exist); a name that parses
    as an integer is a group number. A reference to a group that does not
    exist (or did not take part in the match) expands to the empty string; a
    ``$`` that starts no reference is literal.
    """
    names = dict(regex.names)
    pieces: list[Piece] = []
    text: list[str] = []
    i, n = 0, len(value)
    while i < n:
        j = value.find("$", i)
        if j < 0:
            text.append(value[i:])
            break
        text.append(value[i:j])
        i = j
        if value.startswith("$$", i):
            text.append("$")
            i += 2
            continue
        name = None
        if i + 1 < n and value[i + 1] == "{":
            close = value.find("}", i + 2)
            if close >= 0:
                name = value[i + 2:close]
                end = close + 1
        else:
            k = i + 1
            while k < n and (value[k] == "_" or (value[k].isascii() and value[k].isalnum())):
                k += 1
            if k > i + 1:
                name = value[i + 1:k]
                end = k
        if name is None:
            text.append("$")
            i += 1
            continue
        i = end
        index = _group_ref(name, names)
        if index is not None and index <= regex.groups:
            if text:
                pieces.append("".join(text))
                text = []
            pieces.append(index)
    if text and "".join(text):
        pieces.append("".join(text))
    merged: list[Piece] = []
    for p in pieces:
        if isinstance(p, str) and merged and isinstance(merged[-1], str):
            merged[-1] += p
        elif p != "":
            merged.append(p)
    return tuple(merged)


def _group_ref(name: str, names: dict[str, int]) -> int | None:
    # Rust: name.parse::<usize>() (an optional '+', ASCII digits, no overflow) else a group name
    digits = name[1:] if name.startswith("+") else name
    if digits and digits.isascii() and digits.isdigit() and int(digits) < 2**64:
        return int(digits)
    return names.get(name)


def rust_replacement(pieces: tuple[Piece, ...]) -> str:
    """Write parsed pieces back as a canonical Rust replacement string (``$$`` and ``${n}``)."""
    return "".join(p.replace("$", "$$") if isinstance(p, str) else f"${{{p}}}" for p in pieces)


def expand_literal(pieces: tuple[Piece, ...], literal: str) -> str:
    """Expand pieces for a pattern that is a plain string (group 0 is the string, there are no others)."""
    return "".join(p if isinstance(p, str) else (literal if p == 0 else "") for p in pieces)
