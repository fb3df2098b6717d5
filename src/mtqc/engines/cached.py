"""The engine wrapper that looks every input up in the persistent cache first.

`with_cache` is applied once, where the engine is chosen (`engines.select_engine`), so every
engine gets the same caching and no factory has to remember it.
"""
from __future__ import annotations

import json
from typing import Any

from ..config import Settings
from ..neural.cache import Cache, make_key
from ..neural.manifest import ModelInfo
from .base import Engine, SentenceAnnotation, TokenScores


def engine_identity(engine: Engine) -> str:
    """What makes an engine's outputs what they are: name, models (revision + content), settings."""
    ident = getattr(engine, "cache_identity", None)
    if callable(ident):
        return str(ident())
    return "|".join([engine.name, *(f"{m.hub_id}@{m.revision}" for m in engine.models), engine.settings_key()])


def _scores_to_json(s: TokenScores) -> str:
    return json.dumps({"t": list(s.tokens), "l": list(s.logprobs), "s": [list(x) for x in s.spans]},
                      ensure_ascii=False)


def _scores_from_json(text: str) -> TokenScores:
    d = json.loads(text)
    return TokenScores(tuple(d["t"]), tuple(float(x) for x in d["l"]), tuple((int(a), int(b)) for a, b in d["s"]))


class CachedEngine(Engine):
    """Wraps an engine: looks every input up first; only the misses reach the model, in one batch.

    Translations and scores are cached; everything else the wrapped engine offers (what it
    provides, annotation, per-article accounting, models, settings) is forwarded to it, so the
    wrapper changes how often the model runs and nothing else.
    """

    def __init__(self, inner: Engine, cache: Cache) -> None:
        self.inner = inner
        self.cache = cache
        # reports and signatures show the real engine, and signal selection sees what it can do
        self.name = inner.name  # type: ignore[misc]
        self.can_translate = inner.can_translate  # type: ignore[misc]
        self.can_score = inner.can_score  # type: ignore[misc]
        self.can_annotate = inner.can_annotate  # type: ignore[misc]
        self.notes = inner.notes
        self.hits = 0
        self.misses = 0
        self._identity: str | None = None

    @property
    def identity(self) -> str:
        if self._identity is None:
            self._identity = engine_identity(self.inner)
        return self._identity

    @property
    def provides(self) -> frozenset[str]:
        return self.inner.provides

    @property
    def models(self) -> tuple[ModelInfo, ...]:
        return self.inner.models

    def settings_key(self) -> str:
        return self.inner.settings_key()

    def begin_article(self) -> None:
        self.inner.begin_article()

    def article_usage(self) -> dict[str, Any]:
        return self.inner.article_usage()

    def _annotate(self, texts: list[str]) -> list[SentenceAnnotation]:
        # not cached here: an annotating engine's replies are cached by the engine itself, which
        # knows what makes a reply unusable (and so not worth keeping)
        return self.inner.annotate(texts)

    def _translate(self, texts: list[str], *, src: str, tgt: str) -> list[str]:
        keys = [make_key("translate", self.identity, src, tgt, t) for t in texts]
        found = self.cache.get_many(keys)
        missing = list(dict.fromkeys(t for k, t in zip(keys, texts) if k not in found))
        self.hits += len(texts) - sum(1 for k in keys if k not in found)
        self.misses += len(missing)
        if missing:
            fresh = self.inner.translate(missing, src=src, tgt=tgt)
            new = {make_key("translate", self.identity, src, tgt, t): out for t, out in zip(missing, fresh)}
            self.cache.put_many(new.items())
            found.update(new)
        return [found[k] for k in keys]

    def _score(self, sources: list[str], targets: list[str], *, src: str, tgt: str) -> list[TokenScores]:
        keys = [make_key("score", self.identity, src, tgt, s, t) for s, t in zip(sources, targets)]
        raw = self.cache.get_many(keys)
        found: dict[str, TokenScores] = {}
        for k, v in raw.items():
            try:
                found[k] = _scores_from_json(v)
            except (ValueError, KeyError, TypeError):
                pass  # a damaged entry is recomputed
        pairs = list(dict.fromkeys((s, t) for k, s, t in zip(keys, sources, targets) if k not in found))
        self.hits += len(keys) - sum(1 for k in keys if k not in found)
        self.misses += len(pairs)
        if pairs:
            fresh = self.inner.score([p[0] for p in pairs], [p[1] for p in pairs], src=src, tgt=tgt)
            new = {make_key("score", self.identity, src, tgt, s, t): sc for (s, t), sc in zip(pairs, fresh)}
            self.cache.put_many((k, _scores_to_json(v)) for k, v in new.items())
            found.update(new)
        return [found[k] for k in keys]


def with_cache(engine: Engine, settings: Settings) -> Engine:
    """The engine behind the persistent cache, unless --no-cache.

    An engine that caches its own outputs (`Engine.caches_own_outputs`) is given the cache; one
    that translates is wrapped in a CachedEngine; one that runs no model (offline) needs none.
    """
    if not settings.use_cache:
        return engine
    if engine.caches_own_outputs:
        engine.attach_cache(Cache.for_settings(settings))
        return engine
    if not engine.can_translate:
        return engine
    return CachedEngine(engine, Cache.for_settings(settings))
