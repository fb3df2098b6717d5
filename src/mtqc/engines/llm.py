"""The LLM engine: back-translation and MQM error annotation through an OpenAI-compatible server.

Any server that speaks the chat-completions protocol works: a hosted API, or vLLM, Ollama,
llama.cpp or LM Studio on the newsroom's own machine. mtqc never picks it by itself (`auto`
does not): sending the article to a server is the user's explicit choice.

The `openai` client does the HTTP, the retries (exponential backoff on 408/409/429/5xx and
on connection errors, honouring `Retry-After`) and the per-request timeout; this module adds
what it lacks: a time budget per article, bounded concurrency, the cache, usage accounting,
and one-line errors that name the server but never the API key.
"""
from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence, TypeVar
from urllib.parse import urlsplit, urlunsplit

from ..config import LlmSettings, Settings
from ..errors import EngineError, LlmError, UsageError
from ..neural.manifest import ModelInfo
from .base import Engine, SentenceAnnotation, TokenScores
from .llm_prompts import (
    MQM_RESPONSE_FORMAT, PROMPT_VERSION, Message, annotation_items, annotation_messages, parse_json_reply,
    parse_numbered, translation_messages, verify_annotations,
)

TRANSLATE_BATCH = 16  # sentences per translation request: few requests, replies short enough to check
ANNOTATE_BATCH = 40  # sentences per annotation request: a whole news article, for context
MAX_RETRIES = 3  # the openai client's retries per request (backoff 0.5 s doubling, or Retry-After)
PROBE_TIMEOUT = 15.0  # the start-up check must not wait a full request timeout on a dead server
LIKELIHOOD_SKIPPED = ("Forced-decoding likelihood skipped: an LLM server gives no token probabilities; "
                      "the round-trip and llm_mqm signals ran on the LLM instead.")

T = TypeVar("T")
J = TypeVar("J")


@dataclass(frozen=True)
class LlmModelInfo(ModelInfo):
    """The model as requested, and the id(s) the server's replies named (the signature's revision)."""

    def __str__(self) -> str:
        return f"{self.name}@{self.revision}"  # the served id in full: it is no hash to shorten


@dataclass
class _Usage:
    """One article's requests and tokens (mutable, guarded by the engine's lock)."""

    requests: int = 0
    cache_hits: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    dropped_spans: int = 0
    malformed_replies: int = 0
    served: set[str] = field(default_factory=set)


def display_url(url: str) -> str:
    """The URL without user:password, as it may appear in messages and reports."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"  # IPv6
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path.rstrip("/"), "", ""))


class LlmEngine(Engine):
    """Back-translation (numbered batches) and MQM annotation through one chat model."""

    name = "llm"
    can_translate = True
    can_score = False
    can_annotate = True
    # a cached reply keeps the id of the model that served it (the signature names it), which
    # the generic CachedEngine would drop: the engine caches its replies itself
    caches_own_outputs = True
    notes = (LIKELIHOOD_SKIPPED,)

    def __init__(self, llm: LlmSettings, *, cache: Any = None, max_retries: int = MAX_RETRIES,
                 translate_batch: int = TRANSLATE_BATCH, annotate_batch: int = ANNOTATE_BATCH) -> None:
        """Connect to the server and check that it answers, accepts the key and has the model.

        Raises:
            UsageError: no URL, or no model named and the server serves several.
            LlmError: the server cannot be reached, refuses the key or lacks the model.
            EngineError: the `openai` package is not installed.
        """
        if not llm.url:
            raise UsageError("--engine llm needs the server's address: --llm-url URL (or MTQC_LLM_URL), "
                             "e.g. http://localhost:8000/v1")
        try:
            import openai
        except ImportError as exc:
            raise EngineError(f"the llm engine needs the openai package ({exc}); pip install 'mtqc[llm]'") from None
        self._openai = openai
        self.settings = llm
        self.url = display_url(llm.url)
        self.cache: Any = None
        self.attach_cache(cache)
        self.translate_batch, self.annotate_batch = max(1, translate_batch), max(1, annotate_batch)
        self.max_retries = max_retries
        # local servers need no key, but the client insists on one; a placeholder is sent instead
        self._client = openai.OpenAI(base_url=llm.url, api_key=llm.api_key or "no-key-set",
                                     max_retries=max_retries, timeout=llm.timeout)
        self._lock = threading.Lock()
        self._usage = _Usage()
        self._served_all: set[str] = set()
        self._deadline: float | None = None
        self._structured = True  # until the server refuses a JSON schema
        self.model = self._check_server(llm.model)

    # ------------------------------------------------------------------ the Engine interface

    def attach_cache(self, cache: Any) -> None:
        """Keep replies in `cache` (a disabled or absent cache keeps none)."""
        self.cache = cache if cache is not None and getattr(cache, "enabled", False) else None

    @property
    def models(self) -> tuple[ModelInfo, ...]:
        served = "+".join(sorted(self._served_all)) or "unreported"
        return (LlmModelInfo(self.model, self.model, served),)

    def settings_key(self) -> str:
        return f"prompt={PROMPT_VERSION},temperature=0"

    def begin_article(self) -> None:
        with self._lock:
            self._usage = _Usage()
            self._deadline = time.monotonic() + self.settings.budget

    def article_usage(self) -> dict[str, Any]:
        with self._lock:
            u = self._usage
            price = self.settings.price
            cost = None if price is None else (u.prompt_tokens * price[0] + u.completion_tokens * price[1]) / 1e6
            return {"llm": {
                "model": self.model, "served_models": sorted(u.served), "prompt_version": PROMPT_VERSION,
                "requests": u.requests, "cache_hits": u.cache_hits,
                "prompt_tokens": u.prompt_tokens, "completion_tokens": u.completion_tokens,
                "total_tokens": u.prompt_tokens + u.completion_tokens,
                "price_usd_per_million_tokens": list(price) if price else None,
                "cost_usd": None if cost is None else round(cost, 6),
                "dropped_spans": u.dropped_spans, "malformed_replies": u.malformed_replies,
            }}

    def _score(self, sources: list[str], targets: list[str], *, src: str, tgt: str) -> list[TokenScores]:
        raise EngineError("the llm engine gives no token probabilities (forced decoding needs ct2 or marian)")

    def _translate(self, texts: list[str], *, src: str, tgt: str) -> list[str]:
        keys = [self._key("translate", src, tgt, t) for t in texts]
        found = self._cached(keys, lambda d: str(d["t"]))
        missing = list(dict.fromkeys(t for k, t in zip(keys, texts) if k not in found))
        chunks = [missing[i:i + self.translate_batch] for i in range(0, len(missing), self.translate_batch)]
        fresh: dict[str, tuple[str, str]] = {}
        for chunk, outs in zip(chunks, self._parallel(lambda c: self._translate_chunk(c, src, tgt), chunks)):
            for text, (out, served) in zip(chunk, outs):
                fresh[self._key("translate", src, tgt, text)] = (out, served)
        self._store({k: {"t": out, "m": served} for k, (out, served) in fresh.items()})
        found.update({k: out for k, (out, _) in fresh.items()})
        return [found[k] for k in keys]

    def _annotate(self, texts: list[str]) -> list[SentenceAnnotation]:
        chunks = [texts[i:i + self.annotate_batch] for i in range(0, len(texts), self.annotate_batch)]
        keys = [self._key("mqm", json.dumps(c, ensure_ascii=False)) for c in chunks]
        found = self._cached(keys, lambda d: d["items"] if isinstance(d["items"], list) else None)
        todo = [(k, c) for k, c in zip(keys, chunks) if found.get(k) is None]
        for (key, _), (items, served) in zip(todo, self._parallel(lambda kc: self._annotate_chunk(kc[1]), todo)):
            found[key] = items
            if items is not None:  # an unreadable reply is not cached: the next run asks again
                self._store({key: {"items": items, "m": served}})
        out: list[SentenceAnnotation] = []
        for key, chunk in zip(keys, chunks):
            items = found[key]
            verified = verify_annotations(items, chunk)
            with self._lock:
                self._usage.dropped_spans += sum(a.dropped for a in verified)
                self._usage.malformed_replies += items is None
            out.extend(verified)
        return out

    # ------------------------------------------------------------------ requests

    def _translate_chunk(self, chunk: list[str], src: str, tgt: str) -> list[tuple[str, str]]:
        content, served = self._chat(translation_messages(chunk, src=src, tgt=tgt))
        parsed = parse_numbered(content, len(chunk))
        if parsed is not None:
            return [(p, served) for p in parsed]
        if len(chunk) > 1:  # a model that lost count in a long batch: halves, down to one segment
            half = len(chunk) // 2
            return self._translate_chunk(chunk[:half], src, tgt) + self._translate_chunk(chunk[half:], src, tgt)
        raise LlmError(f"the LLM at {self.url} ({self.model}) did not answer a translation request in the "
                       "numbered format asked for, even for a single sentence; use a model that follows "
                       "instructions, or another engine")

    def _annotate_chunk(self, chunk: list[str]) -> tuple[list[Any] | None, str]:
        messages = annotation_messages(chunk)
        if self._structured:
            try:
                content, served = self._chat(messages, response_format=MQM_RESPONSE_FORMAT)
            except (self._openai.BadRequestError, self._openai.UnprocessableEntityError):
                self._structured = False  # no JSON-schema support: ask in words, parse tolerantly
                content, served = self._chat(messages)
        else:
            content, served = self._chat(messages)
        return annotation_items(parse_json_reply(content)), served

    def _chat(self, messages: list[Message], **extra: Any) -> tuple[str, str]:
        """One chat completion at temperature 0: (reply text, the model id the server named)."""
        timeout = self._request_timeout()
        try:
            response = self._client.chat.completions.create(
                model=self.model, messages=messages, temperature=0, timeout=timeout, **extra)  # type: ignore[arg-type]
        except self._openai.OpenAIError as exc:
            refused_schema = isinstance(exc, (self._openai.BadRequestError, self._openai.UnprocessableEntityError))
            if refused_schema and "response_format" in extra:
                raise  # the caller asks again with the JSON described in the prompt only
            raise self._error(exc, timeout) from None
        usage = getattr(response, "usage", None)
        served = str(getattr(response, "model", None) or self.model)
        choices = getattr(response, "choices", None) or []
        content = (choices[0].message.content or "") if choices else ""
        with self._lock:
            self._usage.requests += 1
            self._usage.prompt_tokens += int(getattr(usage, "prompt_tokens", 0) or 0)
            self._usage.completion_tokens += int(getattr(usage, "completion_tokens", 0) or 0)
            self._usage.served.add(served)
            self._served_all.add(served)
        return content, served

    def _request_timeout(self) -> float:
        with self._lock:
            if self._deadline is None:
                self._deadline = time.monotonic() + self.settings.budget
            remaining = self._deadline - time.monotonic()
            requests = self._usage.requests
        if remaining <= 0:
            raise self._budget_spent(requests)
        return min(self.settings.timeout, remaining)

    def _budget_spent(self, requests: int) -> LlmError:
        return LlmError(f"the LLM time budget of {self.settings.budget:g} s for one article is spent "
                        f"({requests} requests answered); raise --llm-budget (or MTQC_LLM_BUDGET)")

    def _error(self, exc: BaseException, timeout: float) -> LlmError:
        """One line for the user: what failed, at which server, and the fix; never the key."""
        o = self._openai
        where = f"the LLM server at {self.url}"
        status = getattr(exc, "status_code", None)
        retried = f" after {self.max_retries} {'retry' if self.max_retries == 1 else 'retries'}" if self.max_retries else ""
        if isinstance(exc, (o.AuthenticationError, o.PermissionDeniedError)):
            unset = "" if self.settings.api_key else " (MTQC_LLM_API_KEY is not set)"
            return LlmError(f"{where} refused the API key (HTTP {status}){unset}; set MTQC_LLM_API_KEY to a key "
                            "it accepts")
        if isinstance(exc, o.NotFoundError):
            return LlmError(f"{where} has no model {self.model!r} or no chat-completions endpoint (HTTP 404); check "
                            "--llm-model, and that --llm-url is the API base (it usually ends in /v1)")
        if isinstance(exc, o.APITimeoutError) and timeout < self.settings.timeout:
            with self._lock:
                return self._budget_spent(self._usage.requests)  # the budget, not the server, set the limit
        if isinstance(exc, o.APITimeoutError):
            return LlmError(f"{where} did not answer within {timeout:g} s{retried}; raise --llm-timeout or check "
                            "the server")
        if isinstance(exc, o.APIConnectionError):
            cause = exc.__cause__ or exc.__context__
            why = f" ({type(cause).__name__})" if cause is not None else ""
            return LlmError(f"cannot reach {where}{why}; check --llm-url and that the server is running")
        if isinstance(exc, o.RateLimitError):
            return LlmError(f"{where} kept refusing requests with HTTP 429 (rate limit){retried}; lower "
                            "--llm-concurrency, or try again later")
        if status is not None and status >= 500:
            return LlmError(f"{where} failed with HTTP {status}{retried}: {self._scrub(exc)}")
        if status is not None:
            return LlmError(f"{where} rejected the request (HTTP {status}): {self._scrub(exc)}")
        return LlmError(f"{where} gave an unusable answer ({type(exc).__name__}): {self._scrub(exc)}")

    def _scrub(self, exc: BaseException) -> str:
        """The server's message, one line, short, with the key blanked should a server echo it."""
        text = " ".join(str(getattr(exc, "message", None) or exc).split())
        if self.settings.api_key:
            text = text.replace(self.settings.api_key, "***")
        return text[:200] + ("..." if len(text) > 200 else "")

    def _check_server(self, model: str | None) -> str:
        """The model to use, once the server has answered: fail fast, before any article."""
        o = self._openai
        served: list[str] | None
        try:
            served = [str(m.id) for m in self._client.models.list(timeout=min(self.settings.timeout, PROBE_TIMEOUT)).data]
        except o.NotFoundError:
            served = None  # no model listing here: the probe below tells a wrong URL from a missing model
        except o.OpenAIError as exc:
            self.model = model or "?"
            raise self._error(exc, min(self.settings.timeout, PROBE_TIMEOUT)) from None
        if not model:
            if served and len(served) == 1:
                model = served[0]
            else:
                offers = f" (it serves: {', '.join(served[:10])})" if served else ""
                raise UsageError(f"--engine llm needs a model name: --llm-model NAME (or MTQC_LLM_MODEL){offers}")
        self.model = model
        if served is None or model not in served:
            # some servers list other names than they accept (llama.cpp takes any): ask once
            self._chat([{"role": "user", "content": "Reply with the single word OK."}])
            with self._lock:
                self._usage = _Usage()
        return model

    # ------------------------------------------------------------------ helpers

    def _key(self, *parts: str) -> str:
        from ..neural.cache import make_key

        return make_key("llm", PROMPT_VERSION, self.url, self.model, *parts)

    def _cached(self, keys: list[str], read: Callable[[dict[str, Any]], T]) -> dict[str, T]:
        if self.cache is None:
            return {}
        found: dict[str, T] = {}
        for key, value in self.cache.get_many(keys).items():
            try:
                entry = json.loads(value)
                found[key] = read(entry)
                served = str(entry["m"])
            except (ValueError, KeyError, TypeError):
                continue  # a damaged entry is asked again
            with self._lock:
                self._usage.cache_hits += 1
                self._usage.served.add(served)
                self._served_all.add(served)
        return found

    def _store(self, entries: dict[str, dict[str, Any]]) -> None:
        if self.cache is not None and entries:
            self.cache.put_many((k, json.dumps(v, ensure_ascii=False)) for k, v in entries.items())

    def _parallel(self, work: Callable[[J], T], jobs: Sequence[J]) -> list[T]:
        """work(job) for every job, at most `concurrency` requests at once, results in order."""
        if len(jobs) <= 1 or self.settings.concurrency == 1:
            return [work(j) for j in jobs]
        pool = ThreadPoolExecutor(max_workers=min(self.settings.concurrency, len(jobs)),
                                  thread_name_prefix="mtqc-llm")
        try:
            futures = [pool.submit(work, j) for j in jobs]
            return [f.result() for f in futures]
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def create_llm_engine(settings: Settings) -> Engine:
    """The factory behind `--engine llm` (`engines.select_engine` gives it the cache, unless --no-cache)."""
    return LlmEngine(settings.llm)
