"""What the consistency mechanisms share: mentions, the minority rule, and the mechanism base class."""
from __future__ import annotations

import re
from abc import abstractmethod
from collections import Counter
from dataclasses import dataclass
from typing import Iterable, Sequence

from ...results import Flag
from ..base import ArticleContext, Signal, SignalOutput


@dataclass(frozen=True)
class Mention:
    """One occurrence of a rendering, located by sentence index and span within that sentence."""

    sentence: int
    start: int
    end: int
    text: str


def squash(name: str) -> str:
    """A name's letters alone, lowercased: "Tirta Mulya", "Tirta-Mulya" and "TirtaMulya" agree."""
    return re.sub(r"[\s-]", "", name).lower()


def minority(counts: Counter[str], rarer_first: Sequence[str]) -> list[str]:
    """Renderings to flag: all but the most frequent; a tie keeps the one listed last in `rarer_first`."""
    if len(counts) < 2:
        return []
    order = {k: i for i, k in enumerate(rarer_first)}
    ranked = sorted(counts, key=lambda k: (-counts[k], -order.get(k, len(order))))
    return ranked[1:]


def mentions_of(texts: Sequence[str], pattern: re.Pattern[str], group: int = 0) -> list[tuple[Mention, re.Match[str]]]:
    """Every match of `pattern` in the article, as a mention (of `group`) and the match itself."""
    return [(Mention(i, m.start(group), m.end(group), m.group(group)), m) for i, t in enumerate(texts)
            for m in pattern.finditer(t)]


def drop_overlaps(mentions: list[Mention]) -> list[Mention]:
    """Mentions in text order, a mention inside (or overlapping) an earlier, longer one dropped."""
    kept: list[Mention] = []
    for m in sorted(mentions, key=lambda m: (m.sentence, m.start, -(m.end - m.start))):
        if kept and kept[-1].sentence == m.sentence and m.start < kept[-1].end:
            continue
        kept.append(m)
    return kept


class ConsistencyMechanism(Signal):
    """One way of finding a thing rendered two ways in one article; flags the minority rendering(s).

    Each mechanism is a signal of its own (`consistency.<mechanism>`), so that `--disable` turns
    it off and the calibration weighs it by its own precision. Its one value, `<name>.count`, is
    the number of flags it raised in the sentence.
    """

    flag_types = ("consistency",)

    def _compute(self, ctx: ArticleContext) -> list[SignalOutput]:
        texts = [s.text for s in ctx.sentences]
        flags: list[list[Flag]] = [[] for _ in texts]
        for index, flag in self._find(ctx, texts):
            flags[index].append(flag)
        return [SignalOutput({f"{self.name}.count": float(len(f))}, tuple(f)) for f in flags]

    @abstractmethod
    def _find(self, ctx: ArticleContext, texts: list[str]) -> list[tuple[int, Flag]]:
        """(sentence index, flag) for each minority rendering in the article."""

    def _flag_all(self, mentions: Iterable[Mention], message: str, suggestion: str | None,
                  severity: str = "minor") -> list[tuple[int, Flag]]:
        return [(m.sentence, self.flag("consistency", severity, (m.start, m.end), message, suggestion)) for m in mentions]
