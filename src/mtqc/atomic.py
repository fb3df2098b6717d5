"""Atomic file writes: a temp file in the same folder, then rename, so a report is never half-written."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .errors import ReportError


def write_atomic(path: Path, content: str) -> Path:
    """Write `content` to `path` as UTF-8, replacing it in one step."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise ReportError(f"cannot write {path}: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(content)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise ReportError(f"cannot write {path}: {exc.strerror or exc}") from exc
    return path
