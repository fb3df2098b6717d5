"""Place names in Indonesian and in English order within one article ("Jakarta Barat" / "West Jakarta")."""
from __future__ import annotations

import re

from ...ingest.lexicon import zipf_en
from ...results import Flag
from ..base import ArticleContext
from .common import ConsistencyMechanism, mentions_of

_COMPASS_EN = {"North": "Utara", "South": "Selatan", "East": "Timur", "West": "Barat", "Central": "Pusat"}
_COMPASS_ID = {"Utara": "North", "Selatan": "South", "Timur": "East", "Barat": "West", "Pusat": "Central", "Tengah": "Central"}
_EN_ORDER = re.compile(r"\b(North|South|East|West|Central)\s+([A-Z][a-z]+)\b")
_ID_ORDER = re.compile(r"\b([A-Z][a-z]+)\s+(Utara|Selatan|Timur|Barat|Pusat|Tengah)\b")


class PlaceOrderSignal(ConsistencyMechanism):
    """Place names in both orders ("Jakarta Barat" beside "West Jakarta").

    Places English readers know take the English order, local ones keep the Indonesian ("Cibubur
    Utara"): the other convention is flagged, unless it is the article's clear majority.
    """

    name = "consistency.places"

    def _find(self, ctx: ArticleContext, texts: list[str]) -> list[tuple[int, Flag]]:
        english = [(m, (mm.group(2), _COMPASS_EN[mm.group(1)])) for m, mm in mentions_of(texts, _EN_ORDER)]
        indonesian = [(m, (mm.group(1), mm.group(2))) for m, mm in mentions_of(texts, _ID_ORDER)]
        out: list[tuple[int, Flag]] = []

        def known(place: str) -> bool:  # a place English readers know by name ("Jakarta", "Java")
            return zipf_en(place.lower()) >= 3.0

        def english_name(place: str, direction: str) -> str:
            return f"{_COMPASS_ID[direction]} {place}"

        for group_known in (True, False):
            en = [(m, p) for m, p in english if known(p[0]) == group_known]
            idn = [(m, p) for m, p in indonesian if known(p[0]) == group_known]
            if not en or not idn:
                continue
            # known places take the English order, local ones keep the Indonesian: flag the other convention,
            # unless it is the article's clear majority
            expected_en = group_known
            wrong, right = (idn, en) if expected_en else (en, idn)
            if len(wrong) > 2 * len(right):
                wrong, right = right, wrong
                expected_en = not expected_en
            examples = ", ".join(sorted({m.text for m, _ in right})[:3])
            for mention, (place, direction) in wrong:
                suggestion = english_name(place, direction) if expected_en else f"{place} {direction}"
                order = "English" if expected_en else "Indonesian"
                out.append((mention.sentence, self.flag(
                    "consistency", "minor", (mention.start, mention.end),
                    f"'{mention.text}' mixes place-name conventions: this article writes {examples} in {order} order.",
                    suggestion,
                )))
        return out
