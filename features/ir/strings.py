"""IR ops: strings. (Filled in by the strings category.)"""

from __future__ import annotations
