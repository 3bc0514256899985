"""Insights: figures and charts that show whether the lessons work (`/postmortem insights`)."""
