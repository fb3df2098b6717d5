"""Reports: JSON (the contract other tools read), HTML (for editors), terminal summary."""
from __future__ import annotations

from .html import render_html, render_index, write_html
from .json import report_to_json, write_json

__all__ = ["report_to_json", "write_json", "render_html", "render_index", "write_html"]
