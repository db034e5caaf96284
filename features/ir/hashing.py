"""IR ops: hashing. (Filled in by the hashing category.)"""

from __future__ import annotations
