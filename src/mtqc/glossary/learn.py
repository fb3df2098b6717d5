"""Glossary learning: editors' accepted and edited terminology decisions become glossary entries."""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Iterable

from ..results import SEVERITIES
from ..review.file import Decision, Review
from .formats import format_glossary

# flag types whose decisions teach terminology: a wrong rendering (glossary `wrong`) or an
# Indonesian word left in the English (glossary `id`)
LEARNED_TYPES = {"terminology": "wrong", "untranslated": "id"}
_RANK: dict[str, int] = {s: n for n, s in enumerate(SEVERITIES)}


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _key(term: str) -> str:
    return " ".join(term.casefold().split())


# in the stanza format a '#' at a value's start or after whitespace starts a comment
_COMMENT_START = re.compile(r"(?:^|\s)#")


def _representable(term: str) -> bool:
    """A term every glossary format can hold: one line (as str.splitlines sees it), no list separators,
    no '#' that the stanza reader would take for a comment."""
    return (bool(term.strip()) and len((term + "x").splitlines()) == 1 and ";" not in term and "|" not in term
            and not _COMMENT_START.search(term.strip()))


def _commentless(text: str) -> str:
    """Free text (a note, review file names) with no '#' after whitespace, so the stanza reader keeps all of it."""
    return re.sub(r"\s+(?=#)", "", text)


def replacement_for(sentence: str, span: tuple[int, int], final: str) -> str | None:
    """What the editor put where `sentence[span]` was, in `final`; None when it cannot be told."""
    start, end = span
    prefix, suffix = sentence[:start], sentence[end:]
    if final.startswith(prefix) and final.endswith(suffix) and len(prefix) + len(suffix) <= len(final):
        chosen = final[len(prefix):len(final) - len(suffix)]
    else:
        # the editor changed more than the span: align the sentences and carry the span's ends over
        blocks = difflib.SequenceMatcher(None, sentence, final, autojunk=False).get_opcodes()
        new_start = next((j1 + (start - i1) if tag == "equal" else j1)
                         for tag, i1, i2, j1, j2 in blocks if i1 <= start < i2 or (i1 == i2 == start))
        new_end = next((j1 + (end - i1) if tag == "equal" else j2)
                       for tag, i1, i2, j1, j2 in blocks if i1 < end <= i2 or (i1 == i2 == end))
        if new_end < new_start:
            return None
        chosen = final[new_start:new_end]
    chosen = chosen.strip(" \t,.;:")
    return chosen or None


def chosen_term(decision: Decision) -> str | None:
    """The term the editor chose for a flagged span: the suggestion accepted, or what the edit put there."""
    if decision.span is None or decision.span_text is None:
        return None
    if decision.decision == "accepted" and decision.suggestion:
        chosen = decision.suggestion.strip()
        # an acronym's suggestion keeps it in brackets ("House of Representatives (DPR)"); the term is the name
        tail = f" ({decision.span_text})"
        return chosen[:-len(tail)].strip() if chosen.endswith(tail) and len(chosen) > len(tail) else chosen
    return replacement_for(decision.sentence, decision.span, decision.final)


@dataclass
class LearnedConcept:
    """A glossary concept learned from decisions: renderings editors replaced, and their choice."""

    preferred: str
    wrong: list[str] = field(default_factory=list)
    indonesian: list[str] = field(default_factory=list)
    severity: str = "minor"
    evidence: list[str] = field(default_factory=list)  # "file (sentence n)" per decision

    def fields(self) -> dict[str, str]:
        """The concept as glossary keys and values (`format_glossary` writes them in any format)."""
        replaced = ", ".join(f"'{t}'" for t in (*self.wrong, *self.indonesian))
        n = len(self.evidence)
        shown = "; ".join(self.evidence[:5]) + (f"; and {n - 5} more" if n > 5 else "")
        fields = {"id": "; ".join(self.indonesian), "en": self.preferred, "wrong": "; ".join(self.wrong),
                  "note": _commentless(_one_line(f"Editors replaced {replaced} with '{self.preferred}' "
                                                 f"({n} decision{'s' if n != 1 else ''}).")),
                  "source": _commentless(_one_line(f"editor review: {shown}")), "severity": self.severity}
        return {k: v for k, v in fields.items() if v}

    def to_stanza(self) -> str:
        return format_glossary([self.fields()], ".glossary")


@dataclass(frozen=True)
class LearnResult:
    """What `learn_glossary` learned, and what it left for a person to decide."""

    concepts: list[LearnedConcept]
    conflicts: list[str]  # renderings decided differently: listed for a person, never guessed
    skipped: list[str]  # decisions that could not become an entry, and why

    def to_glossary(self, sources: Iterable[str], suffix: str = ".glossary") -> str:
        """The glossary in the format `suffix` names (stanzas, CSV or TSV); loads back by that suffix.

        Raises:
            GlossaryError: `suffix` names no format mtqc writes.
        """
        names = ", ".join(_one_line(s) for s in sources)
        comments = [("Learned by `mtqc glossary learn` from editors' review decisions: " + names).rstrip()]
        if self.conflicts:  # stanza files only: CSV and TSV have no comments (the command lists them too)
            comments += ["Conflicting decisions (left out, decide them by hand):",
                         *(f"  {_one_line(c)}" for c in self.conflicts)]
        return format_glossary((c.fields() for c in self.concepts), suffix, comments)


def learn_glossary(reviews: Iterable[Review]) -> LearnResult:
    """Accepted and edited terminology decisions as glossary concepts, one per chosen term.

    A rendering replaced by two different terms, or replaced in one place and dismissed (kept)
    in another, is a conflict: listed, and left out.
    """
    choices: dict[tuple[str, str], dict[str, list[tuple[Decision, str, str]]]] = {}
    kept: dict[tuple[str, str], list[str]] = {}
    skipped: list[str] = []
    order: list[tuple[str, str]] = []
    for review in reviews:
        for d in review.decisions:
            kind = LEARNED_TYPES.get(d.type)
            if kind is None or d.decision is None or d.span_text is None:
                continue
            where = f"{review.name or review.source} (sentence {d.sentence_index})"
            key = (kind, _key(d.span_text))
            if d.decision == "dismissed":
                kept.setdefault(key, []).append(where)
                if key not in order:
                    order.append(key)
                continue
            chosen = chosen_term(d)
            if chosen is None:
                skipped.append(f"'{_one_line(d.span_text)}' in {where}: the edit removed it, or what replaced "
                               "it cannot be told")
                continue
            if _key(chosen) == key[1]:
                continue  # accepted as it was: nothing to learn
            if not _representable(chosen) or not _representable(d.span_text):
                skipped.append(f"'{_one_line(d.span_text)}' -> '{_one_line(chosen)}' in {where}: a glossary term "
                               "cannot hold ';', '|', a line break or a '#' starting a word")
                continue
            choices.setdefault(key, {}).setdefault(_key(chosen), []).append((d, chosen, where))
            if key not in order:
                order.append(key)
    concepts: dict[str, LearnedConcept] = {}
    conflicts: list[str] = []
    for key in order:
        chosen_by = choices.get(key, {})
        if not chosen_by:
            continue
        rendering = next(iter(chosen_by.values()))[0][0].span_text or key[1]
        if len(chosen_by) > 1 or key in kept:
            parts = [f"'{items[0][1]}' ({', '.join(w for _, _, w in items)})" for items in chosen_by.values()]
            if key in kept:
                parts.append(f"kept as it was ({', '.join(kept[key])})")
            conflicts.append(f"'{_one_line(rendering)}': " + "; ".join(parts))
            continue
        [(chosen_key, items)] = chosen_by.items()
        concept = concepts.setdefault(chosen_key, LearnedConcept(preferred=items[0][1].strip()))
        terms = concept.wrong if key[0] == "wrong" else concept.indonesian
        for d, _, where in items:
            span_text = (d.span_text or "").strip()
            if _key(span_text) not in {_key(t) for t in terms}:
                terms.append(span_text)
            concept.evidence.append(where)
            entry_severity = str((d.glossary_entry or {}).get("severity", "minor"))
            if entry_severity in _RANK and _RANK[entry_severity] > _RANK[concept.severity]:
                concept.severity = entry_severity
    return LearnResult(list(concepts.values()), conflicts, skipped)
