"""The python backend's rule table (filled by the category modules via ``rules``)."""

from ..registry import RuleTable

RULES = RuleTable("python")
