"""One person referred to as both "he" and "she" in one article."""
from __future__ import annotations

from collections import Counter

from ...results import Flag
from ..base import ArticleContext
from .common import ConsistencyMechanism
from .index import article_index


class HeSheSignal(ConsistencyMechanism):
    """One person referred to as both "he" and "she": the minority pronoun is flagged, major.

    Indonesian pronouns carry no gender, so the MT guessed each one; for one person the guesses
    should agree. (The `gendered_pronouns` signal only counts pronouns, for the calibration.)
    """

    name = "consistency.he_she"

    def _find(self, ctx: ArticleContext, texts: list[str]) -> list[tuple[int, Flag]]:
        out: list[tuple[int, Flag]] = []
        for person, pronouns in article_index(texts).people_pronouns.items():
            counts = Counter(g for g, _ in pronouns)
            if len(counts) < 2:
                continue
            minority = "f" if counts["f"] < counts["m"] else "m"
            out += self._flag_all(
                [m for g, m in pronouns if g == minority],
                f"{person} is referred to as both 'he' and 'she' in this article; check the person's gender.",
                None, "major",
            )
        return out
