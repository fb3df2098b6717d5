"""Settings, and the one place where environment variables are read.

Precedence: command-line flag > environment variable > default.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping

from .errors import UsageError

ENV_MODELS_DIR = "MTQC_MODELS_DIR"
ENV_CACHE_DIR = "MTQC_CACHE_DIR"
ENV_OFFLINE = "MTQC_OFFLINE"
ENV_HF_OFFLINE = "HF_HUB_OFFLINE"
ENV_MAX_BYTES = "MTQC_MAX_BYTES"
ENV_DEVICE = "MTQC_DEVICE"
ENV_THREADS = "MTQC_THREADS"
ENV_BEAMS = "MTQC_BEAMS"
ENV_BATCH_SIZE = "MTQC_BATCH_SIZE"

DEFAULT_MAX_BYTES = 2_000_000  # ~300k words: far beyond any news article, small enough never to hang
DEFAULT_BEAMS = 1  # greedy: fast enough for the 3 s/article goal; 4 gives better back-translations
DEFAULT_BATCH_SIZE = 32  # on 2 cores, batches of 32 back-translate an article ~1.4x faster than 16


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_DEVICE = re.compile(r"auto|cpu|cuda(?::[0-9]+)?")
# whole-number settings: (lowest, highest or None); beams above 16 only cost time
_RANGES: dict[str, tuple[int, int | None]] = {"max_bytes": (1, None), "threads": (1, None), "beams": (1, 16),
                                              "batch_size": (1, None)}


def _usage(where: str, found: object, expected: str) -> UsageError:
    """A UsageError naming the setting, the value found and what is allowed."""
    fix = f"unset {where} or change it" if where.startswith(("MTQC_", "HF_")) else f"change {where}"
    kind = "environment variable " if where.startswith(("MTQC_", "HF_")) else ""
    return UsageError(f"{kind}{where}={found!r} is not allowed: expected {expected}; {fix}")


def _bool(env: Mapping[str, str], key: str) -> bool:
    raw = (env.get(key) or "").strip().lower()
    if raw in _TRUE:
        return True
    if not raw or raw in _FALSE:
        return False
    raise _usage(key, env.get(key), "1, true, yes, on or 0, false, no, off")


def _check_int(where: str, value: object, field_name: str) -> int:
    """`value` as a whole number within the setting's range; raises UsageError naming `where`."""
    low, high = _RANGES[field_name]
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str):
        try:
            number = int(value.strip())
        except ValueError:
            pass
    if number is None or number < low or (high is not None and number > high):
        expected = f"a whole number from {low} to {high}" if high else f"a whole number, at least {low}"
        raise _usage(where, value, expected)
    return number


def _check_device(where: str, value: object) -> str:
    device = str(value).strip().lower()
    if not _DEVICE.fullmatch(device):
        raise _usage(where, value, "auto, cpu, cuda or cuda:N (N a GPU number)")
    return device


def _check_dir(where: str, value: object) -> Path:
    path = Path(str(value))
    if path.exists() and not path.is_dir():
        raise _usage(where, str(value), "a folder (it need not exist yet), not a file")
    return path


def _int_or_none(env: Mapping[str, str], key: str, field_name: str) -> int | None:
    raw = env.get(key)
    if raw is None or not raw.strip() or (field_name == "threads" and raw.strip().lower() == "auto"):
        return None
    return _check_int(key, raw, field_name)


def _int(env: Mapping[str, str], key: str, field_name: str, default: int) -> int:
    value = _int_or_none(env, key, field_name)
    return default if value is None else value


# command-line options that override settings, for messages about their values
_OPTIONS = {"models_dir": "--models-dir", "device": "--device", "threads": "--threads", "beams": "--beams"}


def _check_override(name: str, value: Any) -> Any:
    where = _OPTIONS.get(name, name)
    if name in _RANGES:
        return _check_int(where, value, name)
    if name == "device":
        return _check_device(where, value)
    if name in ("models_dir", "cache_dir"):
        return _check_dir(where, value)
    return value


def _default_cache_dir(env: Mapping[str, str]) -> Path:
    base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mtqc"


@dataclass(frozen=True)
class Settings:
    """Resolved settings for one run."""

    models_dir: Path = Path("models")
    cache_dir: Path = field(default_factory=lambda: _default_cache_dir(os.environ))
    offline: bool = False
    use_cache: bool = True
    max_bytes: int = DEFAULT_MAX_BYTES
    device: str = "auto"
    threads: int | None = None
    beams: int = DEFAULT_BEAMS
    batch_size: int = DEFAULT_BATCH_SIZE

    def with_overrides(self, **overrides: Any) -> "Settings":
        """Apply command-line values; None means 'not given on the command line'.

        Raises:
            UsageError: A value is out of range (beams 1-16, threads >= 1, ...) or unknown.
        """
        given = {k: _check_override(k, v) for k, v in overrides.items() if v is not None}
        return replace(self, **given)


def load_settings(env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Build settings from the environment, then apply explicit overrides.

    Every value is validated where it is read.

    Raises:
        UsageError: A variable or override has a value that is not allowed; the message names
            the variable, the value, and what is allowed.
    """
    env = os.environ if env is None else env
    settings = Settings(
        models_dir=_check_dir(ENV_MODELS_DIR, env[ENV_MODELS_DIR]) if env.get(ENV_MODELS_DIR) else Path("models"),
        cache_dir=_check_dir(ENV_CACHE_DIR, env[ENV_CACHE_DIR]) if env.get(ENV_CACHE_DIR) else _default_cache_dir(env),
        offline=_bool(env, ENV_OFFLINE) | _bool(env, ENV_HF_OFFLINE),
        max_bytes=_int(env, ENV_MAX_BYTES, "max_bytes", DEFAULT_MAX_BYTES),
        device=_check_device(ENV_DEVICE, env[ENV_DEVICE]) if (env.get(ENV_DEVICE) or "").strip() else "auto",
        threads=_int_or_none(env, ENV_THREADS, "threads"),
        beams=_int(env, ENV_BEAMS, "beams", DEFAULT_BEAMS),
        batch_size=_int(env, ENV_BATCH_SIZE, "batch_size", DEFAULT_BATCH_SIZE),
    )
    return settings.with_overrides(**overrides)
