"""Glossary terminology: known wrong renderings, and Indonesian terms left in the English."""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..glossary import Concept
from .base import ArticleContext, Signal, SignalOutput


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
        for sentence in ctx.sentences:
            flags = []
            for match in ctx.glossary.find(sentence.text):
                concept = match.concept
                found = sentence.text[match.start:match.end]
                note = f" {concept.note}" if concept.note else ""
                if match.kind == "wrong":
                    flags.append(self.flag(
                        "terminology", concept.severity, (match.start, match.end),
                        f"'{found}' is a known mistranslation; news English says '{concept.preferred}'.{note}",
                        concept.preferred, pinned=concept.layer == "user",
                    ))
                    flags[-1] = replace(flags[-1], glossary_entry=glossary_entry(concept, match.kind))
                elif not ctx.glossary.mentions_preferred(article_text, concept):
                    # the Indonesian term is fine once the article has explained it in English
                    flags.append(self.flag(
                        "untranslated", concept.severity, (match.start, match.end),
                        f"'{found}' is Indonesian; English readers need '{concept.preferred}'.{note}",
                        f"{concept.preferred} ({found})" if found.isupper() else concept.preferred,
                        pinned=concept.layer == "user",
                    ))
                    flags[-1] = replace(flags[-1], glossary_entry=glossary_entry(concept, match.kind))
            outputs.append(SignalOutput({"terminology.hits": float(len(flags))}, tuple(flags)))
        return outputs
