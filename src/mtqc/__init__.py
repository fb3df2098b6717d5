"""mtqc: find likely mistranslations in machine-translated English news, without the source."""
from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
