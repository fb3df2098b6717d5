"""Glossary terminology: known wrong renderings, and Indonesian terms left in the English."""
from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from ..glossary import Concept, find_term
from ..ingest.lexicon import VisibleText
from .base import ArticleContext, Signal, SignalOutput
from .consistency.common import fit_to_span, is_plural, pluralise

# words that may follow a capitalised run inside a name ("Ministry of Religion"): no premodifier ends there
_FUNCTION_WORDS = frozenset({"of", "and", "the", "for", "in", "on", "to", "a", "an", "at", "by", "with", "from"})
_POSSESSIVE = re.compile(r"['\u2019]s?$")
_WORD = re.compile(r"[^\s-]+")  # a term's words are separated by spaces or hyphens
_OPENING = re.compile(r"[\s\"'\u201c\u2018(\[-]+")  # what may come before a sentence's first word


def replacement(found: str, concept: Concept, *, opens_sentence: bool = False) -> str:
    """The preferred term as a replacement for `found`, a wrong rendering of `concept`.

    The replacement reads in `found`'s place: the plural and possessive the article gave the
    wrong term ("fugitives'" -> "defectors'"), a premodifier the glossary's wrong term carries
    and its preferred term lacks ("North Korean fugitive" -> "North Korean defector"), and a capital
    where the wrong term opened the sentence (not where it sits in a capitalised name).
    """
    possessive = _POSSESSIVE.search(found)
    bare = found[:possessive.start()] if possessive else found
    term = next((t for t in concept.wrong if find_term(found, t) == [(0, len(found))]), None)
    last = bare.rsplit(None, 1)[-1]
    # plural where the article inflected the term, not where the glossary wrote it plural
    plural = is_plural(last) and (term is None or last.lower() != _WORD.findall(term)[-1].lower())
    preferred = pluralise(concept.preferred) if plural else concept.preferred
    words = _WORD.findall(term or "")
    lead = 0  # the wrong term's leading capitalised words ("North Korean" in "North Korean fugitive")
    while lead < len(words) and words[lead][:1].isupper():
        lead += 1
    preferred_words = {w.lower() for w in _WORD.findall(concept.preferred)}
    if (0 < lead < len(words) and words[lead].lower() not in _FUNCTION_WORDS
            and not {w.lower() for w in words[:lead]} & preferred_words):
        # they say whose, and the preferred term does not: keep them, spelled as the article has them
        start = [m.start() for m in _WORD.finditer(bare)][lead]
        preferred = bare[:start].rstrip(" -") + " " + preferred
    elif opens_sentence and found[:1].isupper() and preferred[:1].islower():
        preferred = preferred[:1].upper() + preferred[1:]
    if possessive:
        apostrophe = possessive.group(0)[0]  # as the article writes it, straight or curly
        preferred += apostrophe if preferred.endswith("s") and plural else apostrophe + "s"
    return preferred


def glossary_entry(concept: Concept, matched: str) -> dict[str, Any]:
    """The concept behind a flag, as the report shows it to the editor (`matched`: wrong | source)."""
    return {
        "preferred": concept.preferred, "indonesian": list(concept.indonesian),
        "accepted": list(concept.accepted), "wrong": list(concept.wrong), "note": concept.note,
        "source": concept.source, "severity": concept.severity, "origin": concept.origin, "matched": matched,
    }


class TerminologySignal(Signal):
    """Glossary terms: known wrong renderings, and Indonesian terms left unexplained."""

    name = "terminology"
    flag_types = ("terminology", "untranslated")  # a wrong rendering; an Indonesian term left in

    def _compute(self, ctx: ArticleContext) -> list[SignalOutput]:
        outputs = []
        article_text = ctx.article.text
        abbreviations_shown: set[str] = set()
        for sentence in ctx.sentences:
            flags = []
            # terms are matched in the text as a reader sees it (a CMS's soft hyphens left out);
            # spans index the sentence as read
            seen = VisibleText(sentence.text)
            text = seen.visible
            for match in ctx.glossary.find(text):
                concept = match.concept
                found = text[match.start:match.end]
                span = seen.span(match.start, match.end)
                # the concept's note (often a paragraph) travels in `glossary_entry`, one click away
                if match.kind == "wrong":
                    flags.append(self.flag(
                        "terminology", concept.severity, span,
                        f"'{found}' is a known mistranslation; news English says '{concept.preferred}'.",
                        fit_to_span(replacement(found, concept, opens_sentence=not _OPENING.sub("", text[:match.start])),
                                    text, match.start, match.end),
                        pinned=concept.layer == "user",
                    ))
                    flags[-1] = replace(flags[-1], glossary_entry=glossary_entry(concept, match.kind))
                elif found.isupper() and found in abbreviations_shown:
                    continue  # an abbreviation is explained at its first mention: the later ones then stand
                elif not ctx.glossary.mentions_preferred(article_text, concept):
                    # the Indonesian term is fine once the article has explained it in English
                    if found.isupper():
                        abbreviations_shown.add(found)
                    flags.append(self.flag(
                        "untranslated", concept.severity, span,
                        f"'{found}' is Indonesian; English readers need '{concept.preferred}'.",
                        fit_to_span(f"{concept.preferred} ({found})" if found.isupper() else concept.preferred,
                                    text, match.start, match.end),
                        pinned=concept.layer == "user",
                    ))
                    flags[-1] = replace(flags[-1], glossary_entry=glossary_entry(concept, match.kind))
            outputs.append(SignalOutput({"terminology.hits": float(len(flags))}, tuple(flags)))
        return outputs
