"""The LLM engine: back-translation and MQM error annotation through an OpenAI-compatible server.

Any server that speaks the chat-completions protocol works: a hosted API, or vLLM, Ollama,
llama.cpp or LM Studio on the newsroom's own machine. mtqc never picks it by itself (`auto`
does not): sending the article to a server is the user's explicit choice.

The `openai` client builds the requests and types the HTTP errors; this module does the
retries itself (exponential backoff on 408/409/429/5xx, timeouts and connection errors,
honouring `Retry-After`) so that every wait counts against the article's time budget, and
enforces each request's timeout as a total (a server trickling bytes cannot stretch it). It
reads the raw replies itself, so a malformed "200 OK" is a one-line error, never a crash, and
scrubs the API key from everything the server says before it is shown or stored.
"""
from __future__ import annotations

import email.utils
import importlib
import json
import math
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Sequence, TypeVar
from urllib.parse import urlsplit, urlunsplit

from ..config import LlmSettings, Settings
from ..errors import EngineError, LlmError, TransientEngineError, UsageError
from ..neural.manifest import ModelInfo
from .base import Engine, SentenceAnnotation, TokenScores
from .llm_prompts import (
    MQM_RESPONSE_FORMAT,
    PROMPT_VERSION,
    Message,
    annotation_items,
    annotation_messages,
    parse_json_reply,
    parse_numbered,
    translation_messages,
    verify_annotations,
)

TRANSLATE_BATCH = 16  # sentences per translation request: few requests, replies short enough to check
ANNOTATE_BATCH = 40  # sentences per annotation request: a whole news article, for context
MAX_RETRIES = 3  # retries per request (backoff 0.5 s doubling, or Retry-After), all within the budget
MAX_BACKOFF = 8.0  # seconds: the longest wait between retries that the server did not ask for
MAX_TOKENS = 10**9  # a usage count above this is no real count: treated as unknown, not priced
PROBE_TIMEOUT = 15.0  # the start-up check must not wait a full request timeout on a dead server
MIN_SECRET_LENGTH = 8  # a shorter API key is a placeholder (see LlmEngine._secret)
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
    unknown_usage: int = 0  # requests whose token counts were missing or implausible (not priced)
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


class UnreadableReply(LlmError):
    """A "200 OK" whose body is not what the protocol promises (HTML, wrong shapes, no text)."""


@dataclass(frozen=True)
class ChatReply:
    """What one chat completion said: its text, the model id it named, its usage (None: unknown)."""

    text: str
    served: str | None
    prompt_tokens: int | None
    completion_tokens: int | None


def token_count(value: Any) -> int | None:
    """A usage count as reported, or None where it is no plausible count (not priced then)."""
    if isinstance(value, bool) or not isinstance(value, int):
        return None  # "12abc", 12.5, 1e300, true: a server that cannot count is not believed
    return value if 0 <= value <= MAX_TOKENS else None


def read_chat_reply(body: Any) -> ChatReply:
    """The decoded JSON of a chat completion as a ChatReply.

    Raises:
        UnreadableReply: the body lacks a text reply; its message says what was found.
    """
    if not isinstance(body, dict):
        raise UnreadableReply(f"a JSON {type(body).__name__} instead of an object")
    choices = body.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise UnreadableReply("no list of choices")
    message = choices[0].get("message")
    if not isinstance(message, dict):
        raise UnreadableReply("a choice without a message")
    content = message.get("content")
    if content is not None and not isinstance(content, str):
        raise UnreadableReply(f"a message whose content is a {type(content).__name__}, not text")
    model = body.get("model")
    usage = body.get("usage")
    usage = usage if isinstance(usage, dict) else {}
    return ChatReply(content or "", model if isinstance(model, str) and model else None,
                     token_count(usage.get("prompt_tokens")), token_count(usage.get("completion_tokens")))


def read_model_list(body: Any) -> list[str]:
    """The model ids in a decoded /models reply (entries without a text id are skipped).

    Raises:
        UnreadableReply: the body is not {"data": [...]}.
    """
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list):
        raise UnreadableReply("no list of models")
    return [m["id"] for m in data if isinstance(m, dict) and isinstance(m.get("id"), str) and m["id"]]


def decode_json(raw: bytes) -> Any:
    """The body as JSON, or UnreadableReply naming what it looks like (an HTML page, most often)."""
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        text = raw[:200].decode("utf-8", "replace").lstrip().lower()
        what = "an HTML page" if text.startswith(("<!doctype", "<html", "<")) else "a body that is not JSON"
        raise UnreadableReply(what) from None


def retry_after(headers: Any) -> float | None:
    """Seconds the server asked to wait (Retry-After as seconds or a date, or retry-after-ms)."""
    if headers is None:
        return None
    for name, scale in (("retry-after-ms", 1e-3), ("retry-after", 1.0)):
        value = headers.get(name)
        if not value:
            continue
        try:
            seconds = float(value) * scale
        except ValueError:
            when = email.utils.parsedate_to_datetime(value) if scale == 1.0 else None
            if when is None:
                continue
            seconds = when.timestamp() - time.time()
        if math.isfinite(seconds):
            return max(0.0, seconds)
    return None


def _deadline_transport(httpx: Any, deadline: Callable[[], float | None]) -> Any:
    """An httpx transport that ends a response body at the request's deadline.

    httpx's read timeout is per chunk: a server trickling one byte at a time would never hit it.
    Every socket read waits at most until the deadline (status line and headers included), and
    the body is checked after each chunk besides, so a request ends by its limit.
    """

    class DeadlineStream(httpx.SyncByteStream):
        def __init__(self, inner: Any, until: float, request: Any) -> None:
            self.inner, self.until, self.request = inner, until, request

        def __iter__(self) -> Iterator[bytes]:
            for chunk in self.inner:
                if time.monotonic() > self.until:
                    raise httpx.ReadTimeout("the reply took longer than the request's limit", request=self.request)
                yield chunk

        def close(self) -> None:
            self.inner.close()

    class DeadlineNetworkStream:
        """A connection whose every read and write waits at most until the request's deadline.

        This also bounds a server that trickles its status line or headers, before any body.
        """

        def __init__(self, inner: Any, core: Any) -> None:
            self.inner, self.core = inner, core

        def _limit(self, timeout: float | None) -> float | None:
            until = deadline()
            if until is None:
                return timeout
            left = until - time.monotonic()
            if left <= 0:
                raise self.core.ReadTimeout("the reply took longer than the request's limit")
            return left if timeout is None else min(timeout, left)

        def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
            return self.inner.read(max_bytes, self._limit(timeout))

        def write(self, buffer: bytes, timeout: float | None = None) -> None:
            self.inner.write(buffer, self._limit(timeout))

        def close(self) -> None:
            self.inner.close()

        def start_tls(self, *args: Any, **kwargs: Any) -> Any:
            return DeadlineNetworkStream(self.inner.start_tls(*args, **kwargs), self.core)

        def get_extra_info(self, info: str) -> Any:
            return self.inner.get_extra_info(info)

    class DeadlineBackend:
        """The connection pool's network backend, handing out deadline-bound connections."""

        def __init__(self, inner: Any) -> None:
            self.inner = inner
            self.core = importlib.import_module(type(inner).__module__.split(".")[0])  # httpcore or httpcore2

        def connect_tcp(self, *args: Any, **kwargs: Any) -> Any:
            return DeadlineNetworkStream(self.inner.connect_tcp(*args, **kwargs), self.core)

        def connect_unix_socket(self, *args: Any, **kwargs: Any) -> Any:
            return DeadlineNetworkStream(self.inner.connect_unix_socket(*args, **kwargs), self.core)

        def sleep(self, seconds: float) -> None:
            self.inner.sleep(seconds)

    class DeadlineTransport(httpx.HTTPTransport):
        def __init__(self) -> None:
            super().__init__()
            pool: Any = getattr(self, "_pool", None)
            if getattr(pool, "_network_backend", None) is not None:  # a private hook: without it, bodies only
                pool._network_backend = DeadlineBackend(pool._network_backend)

        def handle_request(self, request: Any) -> Any:
            until = deadline()
            response = super().handle_request(request)
            if until is not None:
                if time.monotonic() > until:
                    response.close()
                    raise httpx.ReadTimeout("the reply took longer than the request's limit", request=request)
                response.stream = DeadlineStream(response.stream, until, request)
            return response

    return DeadlineTransport()


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

            # the HTTP library the openai client is built on (httpx, or its httpx2 successor)
            httpx: Any = importlib.import_module(openai.DefaultHttpxClient.__mro__[1].__module__.split(".")[0])
        except ImportError as exc:
            raise EngineError(f"the llm engine needs the openai package ({exc}); pip install 'mtqc[llm]'") from None
        self._openai = openai
        self.settings = llm
        self.url = display_url(llm.url)
        self.cache: Any = None
        self.attach_cache(cache)
        self.translate_batch, self.annotate_batch = max(1, translate_batch), max(1, annotate_batch)
        self.max_retries = max_retries
        self._local = threading.local()  # the deadline of the request this thread is sending
        # local servers need no key, but the client insists on one; a placeholder is sent instead.
        # The client does not retry: its waits would not count against the budget.
        http_client = openai.DefaultHttpxClient(transport=_deadline_transport(
            httpx, lambda: getattr(self._local, "deadline", None)))
        self._client = openai.OpenAI(base_url=llm.url, api_key=llm.api_key or "no-key-set",
                                     max_retries=0, timeout=llm.timeout, http_client=http_client)
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
                "unknown_usage": u.unknown_usage,
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
        try:
            if self._structured:
                try:
                    content, served = self._chat(messages, response_format=MQM_RESPONSE_FORMAT)
                except (self._openai.BadRequestError, self._openai.UnprocessableEntityError):
                    self._structured = False  # no JSON-schema support: ask in words, parse tolerantly
                    content, served = self._chat(messages)
            else:
                content, served = self._chat(messages)
        except UnreadableReply:
            return None, self.model  # counted as an unreadable reply, like unparsable JSON
        return annotation_items(parse_json_reply(content)), served

    def _chat(self, messages: list[Message], *, startup: bool = False, **extra: Any) -> tuple[str, str]:
        """One chat completion at temperature 0: (reply text, the model id the server named).

        Raises:
            UnreadableReply: a "200 OK" without a text reply.
            TransientEngineError: 5xx, 429, a timeout or a spent budget, after the retries.
            LlmError: the server refused the request for good.
        """
        passthrough: tuple[type[BaseException], ...] = ()
        if "response_format" in extra:  # the caller asks again with the JSON described in the prompt only
            passthrough = (self._openai.BadRequestError, self._openai.UnprocessableEntityError)
        raw = self._request(lambda timeout: self._client.chat.completions.with_raw_response.create(
            model=self.model, messages=messages, temperature=0, timeout=timeout, **extra),  # type: ignore[arg-type]
            startup=startup, passthrough=passthrough)
        try:
            reply = read_chat_reply(decode_json(raw.http_response.content))
        except UnreadableReply as exc:
            with self._lock:
                self._usage.requests += 1
                self._usage.unknown_usage += 1
            raise UnreadableReply(f"the LLM server at {self.url} answered a chat request with {exc} (HTTP "
                                  f"{raw.http_response.status_code}); check that --llm-url is an OpenAI-compatible "
                                  "API base") from None
        served = self._scrub_text(reply.served or self.model)  # the signature names it: never the key
        with self._lock:
            self._usage.requests += 1
            if reply.prompt_tokens is None or reply.completion_tokens is None:
                self._usage.unknown_usage += 1
            self._usage.prompt_tokens += reply.prompt_tokens or 0
            self._usage.completion_tokens += reply.completion_tokens or 0
            self._usage.served.add(served)
            self._served_all.add(served)
        return self._scrub_text(reply.text), served

    def _request(self, send: Callable[[float], T], *, startup: bool,
                 passthrough: tuple[type[BaseException], ...] = ()) -> T:
        """send(timeout), retried on transient failures; every try and wait ends by the deadline.

        At start-up the deadline is the probe's timeout; afterwards the article's budget, and
        each try is limited to min(--llm-timeout, time left).
        """
        o = self._openai
        limit = min(self.settings.timeout, PROBE_TIMEOUT) if startup else self.settings.timeout
        deadline = time.monotonic() + limit if startup else self._article_deadline()
        tries = 0
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise self._out_of_time(startup, limit)
            timeout = min(limit, left)
            self._local.deadline = time.monotonic() + timeout
            try:
                return send(timeout)
            except passthrough:
                raise
            except o.OpenAIError as exc:
                error = exc
            finally:
                self._local.deadline = None
            status = getattr(error, "status_code", None)
            if isinstance(error, o.APITimeoutError) and timeout < limit:
                raise self._out_of_time(startup, limit) from None  # the deadline, not the server, set the limit
            retryable = (isinstance(error, (o.APITimeoutError, o.APIConnectionError))
                         or status in (408, 409, 429) or (status is not None and status >= 500))
            if not retryable or tries >= self.max_retries or (startup and isinstance(error, o.APITimeoutError)):
                raise self._error(error, timeout, tries, startup) from None
            asked = retry_after(getattr(getattr(error, "response", None), "headers", None))
            wait = asked if asked is not None else min(MAX_BACKOFF, 0.5 * 2 ** tries)
            left = deadline - time.monotonic()
            if wait >= left:  # waiting would outlast the deadline: fail now, not after the wait
                if startup:
                    raise self._error(error, timeout, tries, startup) from None
                why = "asked to wait" if asked is not None else "failed, and the next retry would wait"
                raise TransientEngineError(
                    f"the LLM server at {self.url} {why} {wait:g} s ({self._what(error)}), more than the "
                    f"{max(left, 0):.1f} s left of the {self.settings.budget:g} s LLM budget for one article; "
                    "try again later, or raise --llm-budget (or MTQC_LLM_BUDGET)") from None
            time.sleep(wait)
            tries += 1

    def _article_deadline(self) -> float:
        with self._lock:
            if self._deadline is None:
                self._deadline = time.monotonic() + self.settings.budget
            return self._deadline

    def _out_of_time(self, startup: bool, limit: float) -> EngineError:
        if startup:
            return TransientEngineError(f"the LLM server at {self.url} did not answer at start-up within {limit:g} s; "
                                        "check that the server is running and not overloaded")
        with self._lock:
            requests = self._usage.requests
        return TransientEngineError(
            f"the time budget of {self.settings.budget:g} s for one article's requests to the LLM server at "
            f"{self.url} is spent ({requests} requests answered); raise --llm-budget (or MTQC_LLM_BUDGET)")

    def _what(self, exc: BaseException) -> str:
        status = getattr(exc, "status_code", None)
        return f"HTTP {status}" if status is not None else type(exc).__name__

    def _error(self, exc: BaseException, timeout: float, tries: int, startup: bool) -> EngineError:
        """One line for the user: what failed, at which server, and the fix; never the key.

        Failures that may pass (5xx, 429, timeouts, a server gone mid-run) are TransientEngineError,
        so that a batch retries the article later; the rest are LlmError.
        """
        o = self._openai
        where = f"the LLM server at {self.url}"
        status = getattr(exc, "status_code", None)
        retried = f" after {tries} {'retry' if tries == 1 else 'retries'}" if tries else ""
        if isinstance(exc, (o.AuthenticationError, o.PermissionDeniedError)):
            unset = "" if self.settings.api_key else " (MTQC_LLM_API_KEY is not set)"
            return LlmError(f"{where} refused the API key (HTTP {status}){unset}; set MTQC_LLM_API_KEY to a key "
                            "it accepts")
        if isinstance(exc, o.NotFoundError):
            return LlmError(f"{where} has no model {self.model!r} or no chat-completions endpoint (HTTP 404); check "
                            "--llm-model, and that --llm-url is the API base (it usually ends in /v1)")
        if isinstance(exc, o.APITimeoutError) and startup:
            return self._out_of_time(True, timeout)
        if isinstance(exc, o.APITimeoutError):
            return TransientEngineError(f"{where} did not answer within {timeout:g} s{retried}; raise --llm-timeout "
                                        "or check the server")
        if isinstance(exc, o.APIConnectionError):
            cause = exc.__cause__ or exc.__context__
            why = f" ({type(cause).__name__})" if cause is not None else ""
            kind = LlmError if startup else TransientEngineError  # at start-up: most likely a wrong URL
            return kind(f"cannot reach {where}{why}; check --llm-url and that the server is running")
        if isinstance(exc, o.RateLimitError):
            return TransientEngineError(f"{where} kept refusing requests with HTTP 429 (rate limit){retried}; lower "
                                        "--llm-concurrency, or try again later")
        if status is not None and (status >= 500 or status in (408, 409)):
            return TransientEngineError(f"{where} failed with HTTP {status}{retried}: {self._scrub(exc)}")
        if status is not None:
            return LlmError(f"{where} rejected the request (HTTP {status}): {self._scrub(exc)}")
        return LlmError(f"{where} gave an unusable answer ({type(exc).__name__}): {self._scrub(exc)}")

    def _scrub(self, exc: BaseException) -> str:
        """The server's message, one line, short, with the key blanked should a server echo it."""
        text = self._scrub_text(" ".join(str(getattr(exc, "message", None) or exc).split()))
        return text[:200] + ("..." if len(text) > 200 else "")

    @property
    def _secret(self) -> str | None:
        """The API key, when it can be a secret. Local servers take any key ("x", "EMPTY"): one
        that short is a placeholder, and blanking it would corrupt ordinary text ("e***amination")."""
        key = self.settings.api_key
        return key if key and len(key) >= MIN_SECRET_LENGTH else None

    def _scrub_text(self, text: str) -> str:
        """`text` with the API key blanked: whatever a server returns may echo it."""
        key = self._secret
        return text.replace(key, "***") if key else text

    def _check_server(self, model: str | None) -> str:
        """The model to use, once the server has answered: fail fast, before any article."""
        o = self._openai
        self.model = model or "?"
        try:
            raw = self._request(lambda timeout: self._client.models.with_raw_response.list(timeout=timeout),
                                startup=True, passthrough=(o.NotFoundError,))
            listed = read_model_list(decode_json(raw.http_response.content))
        except o.NotFoundError:
            listed = None  # no model listing here: the probe below tells a wrong URL from a missing model
        except UnreadableReply as exc:
            raise UnreadableReply(f"the LLM server at {self.url} answered the model list with {exc}; check that "
                                  "--llm-url is an OpenAI-compatible API base (it usually ends in /v1)") from None
        key = self._secret
        if not model:
            if listed and len(listed) == 1 and key and key in listed[0]:
                raise LlmError(f"the LLM server at {self.url} lists a model named like the API key; name the "
                               "model to use with --llm-model (or MTQC_LLM_MODEL)")
            if listed and len(listed) == 1:
                model = listed[0]
            else:
                offers = f" (it serves: {', '.join(self._scrub_text(m) for m in listed[:10])})" if listed else ""
                raise UsageError(f"--engine llm needs a model name: --llm-model NAME (or MTQC_LLM_MODEL){offers}")
        self.model = model
        if listed is None or model not in listed:
            # some servers list other names than they accept (llama.cpp takes any): ask once
            try:
                self._chat([{"role": "user", "content": "Reply with the single word OK."}], startup=True)
            finally:
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
