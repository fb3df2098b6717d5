"""Settings, and the one place where environment variables are read.

Precedence: command-line flag > environment variable > default.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping

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
        concurrency=_int(env, ENV_LLM_CONCURRENCY, 4), budget=_float(env, ENV_LLM_BUDGET, 600.0),
    )


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def _int_or_none(env: Mapping[str, str], key: str) -> int | None:
    raw = env.get(key)
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        from .errors import UsageError

        raise UsageError(f"environment variable {key}={raw!r} is not a whole number") from None


def _int(env: Mapping[str, str], key: str, default: int) -> int:
    value = _int_or_none(env, key)
    return default if value is None else value


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

    def with_overrides(self, **overrides: Any) -> "Settings":
        """Apply command-line values; None means 'not given on the command line'."""
        given = {k: v for k, v in overrides.items() if v is not None}
        return replace(self, **given)


def load_settings(env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Build settings from the environment, then apply explicit overrides."""
    env = os.environ if env is None else env
    settings = Settings(
        models_dir=Path(env.get(ENV_MODELS_DIR) or "models"),
        cache_dir=Path(env[ENV_CACHE_DIR]) if env.get(ENV_CACHE_DIR) else _default_cache_dir(env),
        offline=_truthy(env.get(ENV_OFFLINE)) or _truthy(env.get(ENV_HF_OFFLINE)),
        max_bytes=_int(env, ENV_MAX_BYTES, DEFAULT_MAX_BYTES),
        device=env.get(ENV_DEVICE) or "auto",
        threads=_int_or_none(env, ENV_THREADS),
        beams=_int(env, ENV_BEAMS, DEFAULT_BEAMS),
        batch_size=_int(env, ENV_BATCH_SIZE, DEFAULT_BATCH_SIZE),
        llm=_llm_settings(env),
    )
    return settings.with_overrides(**overrides)
