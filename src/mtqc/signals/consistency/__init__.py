"""Consistency within an article: one thing rendered one way (no glossary needed, bar one mechanism).

Machine translation renders each sentence on its own, so one person, place or concept often
comes out several ways in one article. Each mechanism finds a family of renderings of one thing
and flags the minority rendering(s), pointing to the others. Each is a signal of its own, named
`consistency.<mechanism>`, so that `--disable` turns one off and the calibration learns each
one's precision:

* `consistency.names`: a proper name spelled two ways ("Hendarto" / "Hendartto");
* `consistency.split_names`: a name written as one word and as two ("Tirtamulya" / "Tirta Mulya");
* `consistency.places`: place names in both orders ("Jakarta Barat" beside "West Jakarta");
* `consistency.glossary_forms`: a glossary concept named by its Indonesian and its English form
  ("Polri" and "National Police");
* `consistency.currencies`: one currency written two ways ("Rp" and "IDR");
* `consistency.entities`: noun phrases for one entity with near-synonymous heads ("Malaysian
  workers" / "the labourers of Malaysia"), by back-translation or MiniLM similarity;
* `consistency.he_she`: one person referred to as both "he" and "she".

What they share (mentions, the minority rule, the base class) is in `common`; the per-article
indexes of entity phrases and people, built once per article, are in `index`.
"""
from __future__ import annotations

from ..base import Signal
from .common import ConsistencyMechanism
from .currencies import CurrencySignal
from .entities import EntityPhrasesSignal
from .glossary_forms import GlossaryFormsSignal
from .he_she import HeSheSignal
from .names import NameVariantsSignal
from .places import PlaceOrderSignal
from .split_names import SplitNamesSignal

# in the order the single consistency signal ran them (flags of one sentence keep that order)
CONSISTENCY_SIGNALS: tuple[type[Signal], ...] = (
    NameVariantsSignal, SplitNamesSignal, PlaceOrderSignal, GlossaryFormsSignal, CurrencySignal,
    EntityPhrasesSignal, HeSheSignal,
)

__all__ = ["CONSISTENCY_SIGNALS", "ConsistencyMechanism", "CurrencySignal", "EntityPhrasesSignal",
           "GlossaryFormsSignal", "HeSheSignal", "NameVariantsSignal", "PlaceOrderSignal", "SplitNamesSignal"]
