"""IR ops: temporal. (Filled in by the temporal category.)"""

from __future__ import annotations
