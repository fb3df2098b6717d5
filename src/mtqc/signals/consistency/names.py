"""A proper name spelled two ways in one article ("Hendarto"/"Hendartto", "Yuli"/"Yulie")."""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from difflib import SequenceMatcher

from ...ingest.lexicon import zipf_en, zipf_id
from ...results import Flag
from ..base import ArticleContext
from .common import (
    ConsistencyMechanism,
    Mention,
    glossary_choice,
    is_glossary_wrong,
    mentions_of,
    minority,
    squash,
)

_NAME_TOKEN = re.compile(r"\b[A-Z][a-z]+(?:-[a-z]+)?\b")


def one_char_variant(a: str, b: str) -> bool:
    """Same name but for one inserted/deleted letter, or for spacing/hyphenation."""
    if a == b or a[:1].lower() != b[:1].lower():
        return False
    if squash(a) == squash(b):
        return True
    if abs(len(a) - len(b)) != 1 or min(len(a), len(b)) < 4:
        return False
    short, long_ = sorted((a, b), key=len)
    if long_ == short + "n" and short.endswith("a"):
        return False  # a place and its demonym ("Papua", "Papuan"), not one name spelled two ways
    ops = [op for op in SequenceMatcher(None, a, b).get_opcodes() if op[0] != "equal"]
    return len(ops) == 1 and ops[0][0] in ("insert", "delete") and max(ops[0][2] - ops[0][1], ops[0][4] - ops[0][3]) == 1


def _one_deletion_apart(a: str, b: str) -> bool:
    """Whether deleting one character of the longer gives the shorter: necessary for a one-letter
    variant that is not a spacing variant, and far cheaper to test than difflib's opcodes."""
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    if len(long_) != len(short) + 1:
        return False
    i = 0
    while i < len(short) and short[i] == long_[i]:
        i += 1
    return short[i:] == long_[i + 1:]


def _candidate_pairs(names: list[str]) -> list[tuple[int, int]]:
    """Index pairs (i < j, in the order of comparing every pair) of the names that can be one-letter
    variants: same first letter and lengths at most one apart (`one_char_variant` needs both), found
    by bucketing names on (first letter, length) instead of comparing every pair."""
    buckets: dict[tuple[str, int], list[int]] = defaultdict(list)
    for i, name in enumerate(names):
        buckets[(name[:1].lower(), len(name))].append(i)
    pairs = [(min(i, j), max(i, j)) for (first, length), members in buckets.items() for i in members
             for j in buckets.get((first, length), []) + buckets.get((first, length + 1), []) if i != j]
    return sorted(set(pairs))


class NameVariantsSignal(ConsistencyMechanism):
    """One proper name spelled two ways, one letter apart ("Hendarto" / "Hendartto")."""

    name = "consistency.names"

    def _find(self, ctx: ArticleContext, texts: list[str]) -> list[tuple[int, Flag]]:
        mentions: dict[str, list[Mention]] = defaultdict(list)
        for mention, _ in mentions_of(texts, _NAME_TOKEN):
            if zipf_en(mention.text.lower()) < 3.0:  # common words are not names, capitalised or not
                mentions[mention.text].append(mention)
        names = sorted(mentions)
        out: list[tuple[int, Flag]] = []
        done: set[str] = set()
        for i, j in _candidate_pairs(names):
            a, b = names[i], names[j]
            if not _one_deletion_apart(a, b) and squash(a) != squash(b):
                continue  # cannot be a variant: spare difflib
            if not one_char_variant(a, b):
                continue
            counts = Counter({a: len(mentions[a]), b: len(mentions[b])})
            # a tie goes against the spelling that is rarer in both languages: likely the typo
            rarer = sorted((a, b), key=lambda w: zipf_id(w.lower()) + zipf_en(w.lower()))
            # a spelling the glossary gives is right however rare in the article
            chosen = glossary_choice(ctx.glossary, (a, b))
            for variant in ([b if chosen == a else a] if chosen else minority(counts, rarer)):
                if variant in done or is_glossary_wrong(ctx.glossary, variant):
                    continue  # a spelling the glossary lists as wrong: the terminology signal flags it
                done.add(variant)
                other = b if variant == a else a
                out += self._flag_all(
                    mentions[variant],
                    f"'{variant}' is spelled '{other}' elsewhere in this article ({counts[other]}x): one name, two spellings.",
                    other,
                )
        return out
