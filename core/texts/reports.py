"""Reporting a problem with a question (quiz, review or round)."""

from __future__ import annotations

REPORT_LABEL = "Report a problem"
