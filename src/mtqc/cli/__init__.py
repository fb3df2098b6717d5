"""The command line: thin click commands over the library; the only place errors become exit codes."""
from __future__ import annotations

from .app import main

__all__ = ["main"]
