"""Lessons learned: per-workflow reports, the knowledge base, search, similar lessons, exports."""
