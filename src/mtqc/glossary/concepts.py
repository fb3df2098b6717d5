"""Glossaries: concepts with a preferred English term, their file formats, and term matching.

Formats: the project's own stanza format (`*.txt`, `*.glossary`), CSV and TSV (TBX is read by
`mtqc.tbx`). A glossary can name, for each concept, the Indonesian term(s), the preferred English
term, accepted variants, known wrong renderings (machine calques), a note and where the fact was
verified.

Loading and `mtqc glossary check` share one single-pass reader per format: loading raises the
first problem the reader finds, checking lists them all, with the same line numbers.

Matching uses one Aho-Corasick automaton over every term (pyahocorasick), so its time is linear in
the text and the number of hits whatever the glossary's size; the inflection rules (plural,
possessive, hyphen/space, optional leading "the", word boundaries) are checked around each hit.
"""
from __future__ import annotations

import csv
import hashlib
import io
import re
from bisect import bisect_right
from dataclasses import dataclass, replace
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Iterable, Iterator

import ahocorasick

from ..errors import GlossaryError
from ..results import SEVERITIES, Severity

BUILTIN_GLOSSARY = "news-id-en"
_KEYS = {"id", "en", "accept", "wrong", "note", "source", "severity"}
_LIST_SEP = re.compile(r"\s*[;|]\s*")
# line ends as csv (and editors) count them; str.splitlines() would also split on \x0c, \u2028 ...
_LINE_END = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class Concept:
    """One concept: how Indonesian news names it, and how English should render it."""

    preferred: str
    indonesian: tuple[str, ...] = ()
    accepted: tuple[str, ...] = ()
    wrong: tuple[str, ...] = ()
    note: str = ""
    source: str = ""
    severity: Severity = "minor"
    origin: str = ""  # "file:line" where the concept is defined
    layer: str = ""  # "user" or "builtin" once layered: a user's own entries are flagged as written


@dataclass(frozen=True)
class TermMatch:
    """A glossary hit in a sentence."""

    start: int
    end: int
    concept: Concept
    kind: str  # "wrong" (a known bad rendering) or "source" (the Indonesian term left in English)


@dataclass(frozen=True)
class GlossaryCheck:
    """What `mtqc glossary check` reports for one file: the concepts read and every problem."""

    concepts: tuple[Concept, ...]
    problems: tuple[tuple[int, str], ...]  # (line, message), in file order


def _term_pattern(term: str) -> str:
    """Regex for a term allowing "the", case, hyphen/space variation, plural and possessive.

    The glossary matcher implements the same rules with an automaton (see `_TermMatcher`); this
    regex is kept for callers that search for one term at a time.
    """
    words = [w for w in re.split(r"[\s\-]+", term.strip()) if w]
    lead = ""
    if len(words) > 1 and words[0].lower() == "the":
        # "the apparatus" also matches "apparatus"; text before the term is not part of it
        words, lead = words[1:], r"(?:the[\s]+)?"
    escaped = [re.escape(w) for w in words]
    if not escaped:
        return ""
    last = escaped[-1]
    if re.match(r"^[A-Za-z]+$", words[-1]):
        # plural (s/es, y->ies) and possessive ('s, s') on the head word
        stem = re.escape(words[-1][:-1]) + "(?:y|ies)" if words[-1].endswith("y") else last + "(?:e?s)?"
        last = stem + "(?:['\u2019]s?)?"
    body = r"[\s\-]+".join(escaped[:-1] + [last])
    return r"(?<![\w-])" + lead + body + r"(?![\w-])"


# ---------------------------------------------------------------------------- matching

_SEPARATORS = re.compile(r"[\s\-]+")
_WORD_CHAR = re.compile(r"[\w-]")  # what may not touch a match on either side
_APOSTROPHES = "'\u2019"


def _is_acronym(term: str) -> bool:
    """Acronyms are matched case-sensitively: "RT" (a neighbourhood unit) is not "rt"."""
    return term.isupper() and len(term) <= 6


def _fold(text: str) -> str:
    """Lower-case `text` character by character, so that offsets stay aligned."""
    low = text.lower()
    if len(low) == len(text):
        return low
    # a few characters lower-case to two ("İ"); keep those as they are
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text)


def _normalise(text: str, fold: bool) -> tuple[str, list[int]]:
    """`text` with each run of spaces and hyphens made one space, and each character's origin."""
    source = _fold(text) if fold else text
    parts: list[str] = []
    origin: list[int] = []
    last = 0
    for m in _SEPARATORS.finditer(source):
        start, end = m.span()
        parts.append(source[last:start])
        origin.extend(range(last, start))
        parts.append(" ")
        origin.append(start)
        last = end
    parts.append(source[last:])
    origin.extend(range(last, len(source)))
    return "".join(parts), origin


# flags of a surface form
_LEAD_THE = 1  # "the " before the form is part of the match ("the apparatus")
_PLURAL = 2  # s/es may follow the head word
_POSSESSIVE = 4  # 's, ' may follow


def _forms(term: str, fold: bool) -> list[tuple[str, str, int]]:
    """(first word, rest, flags) of each surface form of a term, normalised like the text.

    `rest` is what follows the first word (" " + the other words), "" for one-word terms; a
    y-word head has two forms ("agency", "agencies"), so that a one-letter head stays a word.
    """
    words = _SEPARATORS.split(term.strip()) if "-" in term else term.split()
    words = [w for w in words if w]
    lead = len(words) > 1 and words[0].lower() == "the"
    if lead:
        words = words[1:]
    if not words:
        return []
    head = words[-1]
    flags = _LEAD_THE if lead else 0
    if head.isascii() and head.isalpha():
        if head.endswith("y"):
            variants = [(words, flags | _POSSESSIVE), ([*words[:-1], head[:-1] + "ies"], flags | _POSSESSIVE)]
        else:
            variants = [(words, flags | _PLURAL | _POSSESSIVE)]
    else:  # "Plt.", "19": no inflection
        variants = [(words, flags)]
    out = []
    for ws, form_flags in variants:
        first, rest = ws[0], "".join(" " + w for w in ws[1:])
        if fold:
            first, rest = _fold(first), _fold(rest)
        out.append((first, rest, form_flags))
    return out


class _TermMatcher:
    """Every occurrence of any of many terms in a text, with the inflection rules of `_term_pattern`.

    The automata are keyed by each term's first word (a far smaller trie than whole terms: it
    builds in a fraction of the time for a glossary of hundreds of thousands of terms); the rest
    of the term is compared where the first word is found. Two automata: one over lower-cased
    text for ordinary terms, one over the text as written for acronyms (or only the first, when
    `always_fold`).
    """

    def __init__(self, terms: Iterable[tuple[str, int]], *, always_fold: bool = False) -> None:
        self.payloads: list[int] = []
        groups: dict[bool, dict[str, list[tuple[str, int, int]]]] = {True: {}, False: {}}
        for term, payload in terms:
            fold = always_fold or not _is_acronym(term)
            index = len(self.payloads)
            self.payloads.append(payload)
            by_first = groups[fold]
            for first, rest, flags in _forms(term, fold):
                entry = (rest, index, flags)
                if first in by_first:
                    by_first[first].append(entry)
                else:
                    by_first[first] = [entry]
        self.automata: dict[bool, ahocorasick.Automaton] = {}
        for fold, by_first in groups.items():
            if by_first:
                automaton = self.automata[fold] = ahocorasick.Automaton(ahocorasick.STORE_ANY)
                for first, entries in by_first.items():
                    automaton.add_word(first, (len(first), tuple(entries)))
                automaton.make_automaton()

    def scan(self, text: str) -> Iterator[tuple[int, int, int]]:
        """(start, end, term index) of each place a term matches, as `re.search` would find it."""
        word_char = _WORD_CHAR.match
        for fold, automaton in self.automata.items():
            normal, origin = _normalise(text, fold)
            for last, (length, entries) in automaton.iter(normal):
                start = origin[last - length + 1]
                if start > 0 and word_char(text, start - 1):
                    continue  # inside a word ("media" in "multimedia"); a leading "the" needs a space anyway
                for rest, term, flags in entries:
                    if rest and not normal.startswith(rest, last + 1):
                        continue
                    end = origin[last + len(rest)] + 1
                    span = self._verify(text, start, end, flags, fold)
                    if span is not None:
                        yield span[0], span[1], term

    @staticmethod
    def _verify(text: str, start: int, end: int, flags: int, fold: bool) -> tuple[int, int] | None:
        """The match's full span around a form found at text[start:end] (whose left edge is a word
        boundary), or None where it is no match."""
        # right: the longest allowed suffix after which no word character follows
        ends = [end]
        if flags & _PLURAL:
            after = text[end:end + 2]
            after = after.lower() if fold else after
            if after == "es":
                ends.append(end + 2)
            if after[:1] == "s":
                ends.append(end + 1)
        if flags & _POSSESSIVE:
            for e in list(ends):
                if text[e:e + 1] and text[e] in _APOSTROPHES:
                    ends.append(e + 1)
                    if text[e + 1:e + 2] == "s" or (fold and text[e + 1:e + 2] == "S"):
                        ends.append(e + 2)
        right = max((e for e in ends if not _WORD_CHAR.match(text, e)), default=None)
        if right is None:
            return None
        # left: an optional "the" and spaces before the form
        if flags & _LEAD_THE:
            i = start
            while i > 0 and text[i - 1].isspace():
                i -= 1
            the = text[max(0, i - 3):i]
            if i < start and (the.lower() if fold else the) == "the" and not (i > 3 and _WORD_CHAR.match(text, i - 4)):
                return i - 3, right
        return start, right


def _norm_term(term: str) -> str:
    """A term as compared across glossaries: case-folded, hyphens and spaces alike."""
    return _SEPARATORS.sub(" ", term.strip()).casefold()


@dataclass(frozen=True)
class Glossary:
    """A set of concepts from one or more files, with a matcher over all of them.

    Where two concepts match the same text, the one listed first wins: `load_glossaries` lists
    user glossaries before the built-in one.
    """

    concepts: tuple[Concept, ...] = ()
    names: tuple[str, ...] = ()  # for the report signature: name@sha256-prefix, in precedence order

    def merged(self, other: "Glossary") -> "Glossary":
        """This glossary's concepts, then `other`'s (which lose where both match)."""
        return Glossary(self.concepts + other.concepts, self.names + other.names)

    @cached_property
    def _terms(self) -> tuple[list[tuple[Concept, str]], _TermMatcher]:
        """(concept, kind) per term, wrong renderings before Indonesian terms, and their matcher."""
        kinds: list[tuple[Concept, str]] = []
        terms: list[tuple[str, int]] = []
        for concept in self.concepts:
            for kind, group in (("wrong", concept.wrong), ("source", concept.indonesian)):
                for term in group:
                    terms.append((term, len(kinds)))
                    kinds.append((concept, kind))
        return kinds, _TermMatcher(terms)

    @cached_property
    def _preferred(self) -> tuple[dict[int, int], _TermMatcher]:
        """Concept positions by id, and a matcher over preferred and accepted terms (any case)."""
        positions = {id(c): i for i, c in enumerate(self.concepts)}
        terms = [(t, i) for i, c in enumerate(self.concepts) for t in (c.preferred, *c.accepted)]
        return positions, _TermMatcher(terms, always_fold=True)

    @cached_property
    def _mentions_cache(self) -> dict[str, frozenset[int]]:
        return {}

    def find(self, text: str) -> list[TermMatch]:
        """Non-overlapping matches, longest first where two overlap, then the earlier concept."""
        if not self.concepts:
            return []
        kinds, matcher = self._terms
        hits = sorted(matcher.scan(text), key=lambda h: (h[2], h[0]))
        # one term's matches do not overlap each other, as with re.finditer
        per_term: list[tuple[int, int, int]] = []
        last_term, last_end = -1, -1
        for start, end, term in hits:
            if term != last_term:
                last_term, last_end = term, -1
            if start >= last_end:
                per_term.append((start, end, term))
                last_end = end
        per_term.sort(key=lambda h: (h[0] - h[1], h[0], matcher.payloads[h[2]]))
        starts: list[int] = []
        ends: list[int] = []
        chosen: list[TermMatch] = []
        for start, end, term in per_term:
            k = bisect_right(starts, start)
            if (k > 0 and ends[k - 1] > start) or (k < len(starts) and starts[k] < end):
                continue  # overlaps a longer (or earlier) match
            starts.insert(k, start)
            ends.insert(k, end)
            concept, kind = kinds[matcher.payloads[term]]
            chosen.append(TermMatch(start, end, concept, kind))
        return sorted(chosen, key=lambda h: h.start)

    def mentions_preferred(self, text: str, concept: Concept) -> bool:
        """True when `text` already uses the preferred term or an accepted variant."""
        positions, matcher = self._preferred
        position = positions.get(id(concept))
        if position is None:  # a concept from elsewhere: search for its terms one by one
            for term in (concept.preferred, *concept.accepted):
                pattern = _term_pattern(term)
                if pattern and re.search(pattern, text, re.IGNORECASE):
                    return True
            return False
        cache = self._mentions_cache
        if text not in cache:
            if len(cache) >= 8:  # callers ask about one article many times, then move on
                cache.clear()
            cache[text] = frozenset(matcher.payloads[term] for _, _, term in matcher.scan(text))
        return position in cache[text]


# ---------------------------------------------------------------------------- parsing


def _split_list(value: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in _LIST_SEP.split(value) if v.strip())


def _make_concept(fields: dict[str, str], origin: str) -> Concept:
    """A concept from `key: value` fields; raises GlossaryError (message without location)."""
    if not (fields.get("en") or "").strip():
        raise GlossaryError("concept has no 'en' (preferred English term)")
    severity = (fields.get("severity") or "minor").strip().lower()
    if severity not in SEVERITIES:
        raise GlossaryError(f"severity {severity!r} is not one of {', '.join(SEVERITIES)}")
    concept = Concept(
        preferred=fields["en"].strip(),
        indonesian=_split_list(fields.get("id", "")),
        accepted=_split_list(fields.get("accept", "")),
        wrong=_split_list(fields.get("wrong", "")),
        note=fields.get("note", "").strip(),
        source=fields.get("source", "").strip(),
        severity=severity,
        origin=origin,
    )
    if not concept.wrong and not concept.indonesian:
        raise GlossaryError(f"concept {concept.preferred!r} has neither 'wrong' nor 'id' terms to look for")
    return concept


def _scan_stanzas(text: str, name: str) -> Iterator[Concept | tuple[int, str]]:
    """The project's format, in one pass: each concept, or (line, problem), in file order."""
    fields: dict[str, str] = {}
    seen: dict[str, int] = {}  # key -> line, to catch a key given twice in one concept
    first_line = 0
    bad = False  # a stanza with a bad line yields only that problem, not "no 'en'" as well
    for lineno, raw in enumerate([*_LINE_END.split(text), ""], start=1):
        line = raw.strip()
        if line.startswith("#"):
            continue
        if not line:
            if fields and not bad:
                try:
                    yield _make_concept(fields, f"{name}:{first_line}")
                except GlossaryError as exc:
                    yield (first_line, str(exc))
            fields, seen, bad = {}, {}, False
            continue
        key, sep, value = line.partition(":")
        key = key.strip().lower()
        if not fields and not bad:
            first_line = lineno
        if not sep or key not in _KEYS:
            yield (lineno, f"expected 'key: value' with key one of {', '.join(sorted(_KEYS))}, found {line[:40]!r}")
            bad = True
        elif key in seen:
            # a second `wrong:` line would silently replace the first
            yield (lineno, f"key {key!r} appears twice in one concept (first on line {seen[key]}); "
                           "put all values on one line, separated by ';'")
            bad = True
        else:
            seen[key] = lineno
            fields[key] = value.strip()


def _scan_delimited(text: str, name: str, delimiter: str) -> Iterator[Concept | tuple[int, str]]:
    """CSV/TSV with a header row naming the same keys as the stanza format, in one pass.

    Quoted fields may hold newlines; a row's problems name the line its record starts on.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [h.strip().lower() for h in next(reader, [])]
        if "en" not in header:
            yield (1, f"header must include an 'en' column; found {header}")
            return
        unknown = set(header) - _KEYS
        if unknown:
            yield (1, f"unknown columns {sorted(unknown)}; expected {sorted(_KEYS)}")
            return
        twice = sorted({h for h in header if header.count(h) > 1})
        if twice:
            yield (1, f"columns {twice} appear more than once; expected each key once")
            return
        start = reader.line_num + 1
        for row in reader:
            if any(v.strip() for v in row):
                fields = dict(zip(header, row))
                try:
                    yield _make_concept(fields, f"{name}:{start}")
                except GlossaryError as exc:
                    yield (start, str(exc))
            start = reader.line_num + 1
    except csv.Error as exc:  # e.g. a field over csv's size limit (an unclosed quote swallows the file)
        yield (max(reader.line_num, 1), f"not valid {'CSV' if delimiter == ',' else 'TSV'}: {exc}")


def _located(name: str, line: int, message: str) -> GlossaryError:
    return GlossaryError(f"{name}:{line}: {message}")


def _strict(items: Iterable[Concept | tuple[int, str]], name: str) -> list[Concept]:
    concepts = []
    for item in items:
        if isinstance(item, tuple):
            raise _located(name, *item)
        concepts.append(item)
    return concepts


def parse_stanzas(text: str, name: str) -> list[Concept]:
    """The project's format: `key: value` lines, one concept per blank-line-separated stanza.

    Raises:
        GlossaryError: At the first problem, as "name:line: problem".
    """
    return _strict(_scan_stanzas(text, name), name)


def parse_delimited(text: str, name: str, delimiter: str) -> list[Concept]:
    """CSV/TSV with a header row naming the same keys as the stanza format.

    Raises:
        GlossaryError: At the first problem, as "name:line: problem".
    """
    return _strict(_scan_delimited(text, name, delimiter), name)


def _read(path: Path) -> tuple[bytes, str | None]:
    """Bytes, and text for the line-based formats (XML decodes itself, whatever its encoding)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise GlossaryError(f"{path}: cannot read glossary ({exc.strerror or exc})") from exc
    if path.suffix.lower() in (".tbx", ".xml"):
        return data, None
    try:
        return data, data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise GlossaryError(f"{path}: glossary is not valid UTF-8 (byte {exc.start})") from exc


def _scan(text: str, name: str, suffix: str) -> Iterator[Concept | tuple[int, str]]:
    if suffix in (".csv", ".tsv"):
        return _scan_delimited(text, name, "," if suffix == ".csv" else "\t")
    return _scan_stanzas(text, name)


def load_glossary_file(path: Path) -> Glossary:
    """Read one glossary file, choosing the parser by suffix.

    Raises:
        GlossaryError: The file cannot be read or has a problem (the first one, with its line).
    """
    data, text = _read(path)
    suffix = path.suffix.lower()
    if suffix in (".tbx", ".xml"):
        from .tbx import parse_tbx

        concepts = parse_tbx(data, path.name)
    else:
        concepts = _strict(_scan(text or "", path.name, suffix), path.name)
    return Glossary(tuple(concepts), (f"{path.name}@{_digest(data)}",))


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:8]


def inspect_glossary_file(path: Path) -> GlossaryCheck:
    """Every problem in a glossary, and the concepts that read well, in one pass.

    Unlike loading, which stops at the first problem, this reads on past each bad concept; the
    first problem listed is the one loading raises (TBX also lists entries it skips).

    Raises:
        GlossaryError: The file cannot be read or is not UTF-8.
    """
    data, text = _read(path)
    suffix = path.suffix.lower()
    if suffix in (".tbx", ".xml"):
        from .tbx import inspect_tbx

        tbx_concepts, problems = inspect_tbx(data, path.name)
        return GlossaryCheck(tuple(tbx_concepts), tuple(problems))
    concepts: list[Concept] = []
    found: list[tuple[int, str]] = []
    for item in _scan(text or "", path.name, suffix):
        (found if isinstance(item, tuple) else concepts).append(item)  # type: ignore[arg-type]
    return GlossaryCheck(tuple(concepts), tuple(found))


def check_glossary_file(path: Path) -> list[tuple[int, str]]:
    """Every problem in a glossary as (line, message); an empty list when it is fine."""
    return list(inspect_glossary_file(path).problems)


def builtin_glossary() -> Glossary:
    """The news glossary shipped in the package."""
    resource = resources.files("mtqc") / "data" / f"{BUILTIN_GLOSSARY}.glossary"
    data = resource.read_bytes()
    name = f"{BUILTIN_GLOSSARY}.glossary"
    concepts = _strict(_scan_stanzas(data.decode("utf-8"), name), name)
    return Glossary(tuple(concepts), (f"{name}@{_digest(data)}",))


def layered(layers: Iterable[tuple[Glossary, str]]) -> Glossary:
    """Glossaries merged in precedence order (first wins), each name marked with its kind.

    A concept is overridden, and dropped, where a glossary before it has a concept with one of its
    Indonesian terms; a wrong rendering is dropped where a glossary before it accepts that term
    (as preferred or accepted). Within one glossary nothing is dropped.

    Args:
        layers: (glossary, kind) pairs, highest precedence first; kind is "user" or "builtin".
    """
    concepts: list[Concept] = []
    names: list[str] = []
    claimed: set[str] = set()  # Indonesian terms of the glossaries before
    accepted: set[str] = set()  # preferred and accepted English terms of the glossaries before
    for glossary, kind in layers:
        kept = []
        for concept in glossary.concepts:
            if any(_norm_term(t) in claimed for t in concept.indonesian):
                continue
            wrong = tuple(t for t in concept.wrong if _norm_term(t) not in accepted)
            if wrong != concept.wrong:
                if not wrong and not concept.indonesian:
                    continue
                concept = replace(concept, wrong=wrong)
            kept.append(replace(concept, layer=kind))
        for concept in kept:
            claimed.update(_norm_term(t) for t in concept.indonesian)
            accepted.update(_norm_term(t) for t in (concept.preferred, *concept.accepted))
        concepts += kept
        names += [f"{n}({kind})" for n in glossary.names]
    return Glossary(tuple(concepts), tuple(names))


def load_glossaries(paths: Iterable[Path], *, include_builtin: bool = True) -> Glossary:
    """User glossaries in the order given, then the built-in one (unless disabled).

    Precedence follows that order: the first `--glossary` wins over later ones, and every user
    glossary wins over the built-in one (see `layered`).
    """
    layers = [(load_glossary_file(path), "user") for path in paths]
    if include_builtin:
        layers.append((builtin_glossary(), "builtin"))
    return layered(layers)
