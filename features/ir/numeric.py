"""IR ops: numeric. (Filled in by the numeric category.)"""

from __future__ import annotations
