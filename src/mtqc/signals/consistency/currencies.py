"""One currency written two ways in one article ("Rp" / "IDR")."""
from __future__ import annotations

import re
from collections import Counter

from ...results import Flag
from ..base import ArticleContext
from .common import ConsistencyMechanism, mentions_of, minority

# currency notations that name the same currency
_CURRENCIES = {
    "rupiah": {"Rp": re.compile(r"\bRp(?=\.?\s?\d)"), "IDR": re.compile(r"\bIDR(?=\s?\d)")},
    "US dollar": {"US$": re.compile(r"\bUS\$(?=\s?\d)"), "USD": re.compile(r"\bUSD(?=\s?\d)")},
}


class CurrencySignal(ConsistencyMechanism):
    """One currency written two ways ("Rp" and "IDR", "US$" and "USD")."""

    name = "consistency.currencies"

    def _find(self, ctx: ArticleContext, texts: list[str]) -> list[tuple[int, Flag]]:
        out: list[tuple[int, Flag]] = []
        for currency, notations in _CURRENCIES.items():
            by_form = {form: [m for m, _ in mentions_of(texts, pattern)] for form, pattern in notations.items()}
            counts = Counter({form: len(ms) for form, ms in by_form.items() if ms})
            for form in minority(counts, list(notations)[::-1]):
                majority = counts.most_common(1)[0][0]
                out += self._flag_all(by_form[form], f"The {currency} is written '{majority}' elsewhere in this article.", majority)
        return out
