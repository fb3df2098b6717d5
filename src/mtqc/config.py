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
# the Hugging Face cache and hub, as huggingface_hub finds them (read here, so that finding a
# cached model needs no import of huggingface_hub: a third of a second at every start)
ENV_HF_HUB_CACHE = "HF_HUB_CACHE"
ENV_HF_HUB_CACHE_LEGACY = "HUGGINGFACE_HUB_CACHE"
ENV_HF_HOME = "HF_HOME"
ENV_HF_ENDPOINT = "HF_ENDPOINT"
DEFAULT_HF_ENDPOINT = "https://huggingface.co"
ENV_MAX_BYTES = "MTQC_MAX_BYTES"
ENV_DEVICE = "MTQC_DEVICE"
ENV_THREADS = "MTQC_THREADS"
ENV_BEAMS = "MTQC_BEAMS"
ENV_BATCH_SIZE = "MTQC_BATCH_SIZE"

DEFAULT_MAX_BYTES = 2_000_000  # ~300k words: far beyond any news article, small enough never to hang
DEFAULT_BEAMS = 1  # greedy: fast enough for the 3 s/article goal; 4 gives better back-translations
DEFAULT_BATCH_SIZE = 32  # on 2 cores, batches of 32 back-translate an article ~1.4x faster than 16

# --- LLM engine (issue 11): an OpenAI-compatible server the user points mtqc at ---------------
ENV_LLM_API_KEY = "MTQC_LLM_API_KEY"  # the key comes from here only: never a flag, report or log
ENV_LLM_URL = "MTQC_LLM_URL"
ENV_LLM_MODEL = "MTQC_LLM_MODEL"
ENV_LLM_TIMEOUT = "MTQC_LLM_TIMEOUT"
ENV_LLM_CONCURRENCY = "MTQC_LLM_CONCURRENCY"
ENV_LLM_BUDGET = "MTQC_LLM_BUDGET"


@dataclass(frozen=True)
class LlmSettings:
    """Where the LLM server is and how hard mtqc may use it.

    Attributes:
        url: OpenAI-compatible base URL (e.g. http://localhost:8000/v1); None: not configured.
        model: model name to request; None: the server's only model, if it serves one.
        api_key: from MTQC_LLM_API_KEY only; kept out of repr so that it never reaches a log.
        timeout: seconds one request may take.
        concurrency: requests in flight at once.
        budget: seconds all of one article's LLM requests (retries and waits included) may take.
        price: US dollars per million (prompt, completion) tokens, for the cost in the report.
    """

    url: str | None = None
    model: str | None = None
    api_key: str | None = field(default=None, repr=False)
    timeout: float = 60.0
    concurrency: int = 4
    budget: float = 600.0
    price: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        from .errors import UsageError

        if self.url is not None and not self.url.lower().startswith(("http://", "https://")):
            raise UsageError(f"LLM URL {self.url!r} is not an http(s) URL; give the server's API base, "
                             "e.g. --llm-url http://localhost:8000/v1")
        for name, value in (("timeout", self.timeout), ("budget", self.budget)):
            if not value > 0:  # also refuses NaN
                raise UsageError(f"LLM {name} must be a positive number of seconds, not {value!r}")
        if not 1 <= self.concurrency <= 64:
            raise UsageError(f"LLM concurrency must be 1 to 64 requests, not {self.concurrency!r}")

    def with_overrides(self, **overrides: Any) -> "LlmSettings":
        """Apply command-line values; None means 'not given on the command line'."""
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})


def parse_price(text: str) -> tuple[float, float]:
    """'IN,OUT' (or one number for both): US dollars per million prompt and completion tokens."""
    from .errors import UsageError

    parts = [p.strip() for p in text.split(",")]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    if len(values) not in (1, 2) or not all(0 <= v < float("inf") for v in values):
        raise UsageError(f"LLM price {text!r} is not 'IN,OUT' dollars per million tokens (e.g. 0.15,0.60)")
    return (values[0], values[-1])


def _float(env: Mapping[str, str], key: str, default: float) -> float:
    raw = env.get(key)
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        from .errors import UsageError

        raise UsageError(f"environment variable {key}={raw!r} is not a number") from None


def _llm_settings(env: Mapping[str, str]) -> LlmSettings:
    return LlmSettings(
        url=env.get(ENV_LLM_URL) or None, model=env.get(ENV_LLM_MODEL) or None,
        api_key=env.get(ENV_LLM_API_KEY) or None, timeout=_float(env, ENV_LLM_TIMEOUT, 60.0),
        concurrency=_int(env, ENV_LLM_CONCURRENCY, "llm_concurrency", 4), budget=_float(env, ENV_LLM_BUDGET, 600.0),
    )


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_DEVICE = re.compile(r"auto|cpu|cuda(?::[0-9]+)?")
# whole-number settings: (lowest, highest or None); beams above 16 only cost time
_RANGES: dict[str, tuple[int, int | None]] = {"max_bytes": (1, None), "threads": (1, None), "beams": (1, 16), "llm_concurrency": (1, 64),
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


def _default_hf_cache_dir(env: Mapping[str, str]) -> Path:
    """Where huggingface_hub keeps downloaded models: HF_HUB_CACHE, else HF_HOME/hub, else the XDG cache."""
    explicit = env.get(ENV_HF_HUB_CACHE) or env.get(ENV_HF_HUB_CACHE_LEGACY)
    if explicit:
        return Path(explicit).expanduser()
    home = env.get(ENV_HF_HOME) or str(Path(env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")) / "huggingface")
    return Path(home).expanduser() / "hub"


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
    llm: LlmSettings = field(default_factory=LlmSettings)
    hf_cache_dir: Path = field(default_factory=lambda: _default_hf_cache_dir(os.environ))
    hf_endpoint: str = field(default_factory=lambda: os.environ.get(ENV_HF_ENDPOINT) or DEFAULT_HF_ENDPOINT)

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
        llm=_llm_settings(env),
        hf_cache_dir=_default_hf_cache_dir(env),
        hf_endpoint=env.get(ENV_HF_ENDPOINT) or DEFAULT_HF_ENDPOINT,
    )
    return settings.with_overrides(**overrides)
