"""Insights for the careers team: anonymous daily figures rolled up from the tracker store and
the desk's handoffs, served by the desk's Insights page and its JSON API (docs/insights.md)."""
