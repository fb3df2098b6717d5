"""Glossaries: concepts with a preferred English term, and inflection-aware matching.

Formats: the project's own stanza format (`*.txt`, `*.glossary`), CSV and TSV. A glossary can
name, for each concept, the Indonesian term(s), the preferred English term, accepted variants,
known wrong renderings (machine calques), a note and where the fact was verified.
"""
from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Iterable

from .errors import GlossaryError
from .results import SEVERITIES, Severity

BUILTIN_GLOSSARY = "news-id-en"
_KEYS = {"id", "en", "accept", "wrong", "note", "source", "severity"}
_LIST_SEP = re.compile(r"\s*[;|]\s*")


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


@dataclass(frozen=True)
class TermMatch:
    """A glossary hit in a sentence."""

    start: int
    end: int
    concept: Concept
    kind: str  # "wrong" (a known bad rendering) or "source" (the Indonesian term left in English)


def _term_pattern(term: str) -> str:
    """Regex for a term allowing "the", case, hyphen/space variation, plural and possessive."""
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


@dataclass(frozen=True)
class Glossary:
    """A set of concepts from one or more files, with a matcher over all of them."""

    concepts: tuple[Concept, ...] = ()
    names: tuple[str, ...] = ()  # for the report signature: name@sha256-prefix

    def merged(self, other: "Glossary") -> "Glossary":
        return Glossary(self.concepts + other.concepts, self.names + other.names)

    @cached_property
    def _patterns(self) -> dict[str, list[tuple[re.Pattern[str], Concept, str]]]:
        """Compiled patterns indexed by their first word, so a sentence only tries the ones that can match."""
        index: dict[str, list[tuple[re.Pattern[str], Concept, str]]] = {}
        for concept in self.concepts:
            for kind, terms in (("wrong", concept.wrong), ("source", concept.indonesian)):
                for term in terms:
                    pattern = _term_pattern(term)
                    words = re.findall(r"\w+", term.lower())
                    if not pattern or not words:
                        continue
                    # keyed by the first word's first 4 letters, so inflected forms ("agencies") still look
                    key = (words[1] if words[0] == "the" and len(words) > 1 else words[0])[:4]
                    # acronyms are matched case-sensitively: "RT" is not "rt"
                    flags = 0 if term.isupper() and len(term) <= 6 else re.IGNORECASE
                    index.setdefault(key, []).append((re.compile(pattern, flags), concept, kind))
        return index

    def find(self, text: str) -> list[TermMatch]:
        """Non-overlapping matches, longest first where two overlap."""
        words = {w[:4] for w in re.findall(r"\w+", text.lower())}
        hits = [
            TermMatch(m.start(), m.end(), concept, kind)
            for word in words & self._patterns.keys()
            for pattern, concept, kind in self._patterns[word]
            for m in pattern.finditer(text)
        ]
        hits.sort(key=lambda h: (-(h.end - h.start), h.start))
        chosen: list[TermMatch] = []
        for hit in hits:
            if all(hit.end <= c.start or hit.start >= c.end for c in chosen):
                chosen.append(hit)
        return sorted(chosen, key=lambda h: h.start)

    def mentions_preferred(self, text: str, concept: Concept) -> bool:
        """True when `text` already uses the preferred term or an accepted variant."""
        for term in (concept.preferred, *concept.accepted):
            pattern = _term_pattern(term)
            if pattern and re.search(pattern, text, re.IGNORECASE):
                return True
        return False


# ---------------------------------------------------------------------------- parsing


def _split_list(value: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in _LIST_SEP.split(value) if v.strip())


def _make_concept(fields: dict[str, str], origin: str) -> Concept:
    if not fields.get("en"):
        raise GlossaryError(f"{origin}: concept has no 'en' (preferred English term)")
    severity = fields.get("severity", "minor").strip().lower()
    if severity not in SEVERITIES:
        raise GlossaryError(f"{origin}: severity {severity!r} is not one of {', '.join(SEVERITIES)}")
    concept = Concept(
        preferred=fields["en"].strip(),
        indonesian=_split_list(fields.get("id", "")),
        accepted=_split_list(fields.get("accept", "")),
        wrong=_split_list(fields.get("wrong", "")),
        note=fields.get("note", "").strip(),
        source=fields.get("source", "").strip(),
        severity=severity,  # type: ignore[arg-type]
        origin=origin,
    )
    if not concept.wrong and not concept.indonesian:
        raise GlossaryError(f"{origin}: concept {concept.preferred!r} has neither 'wrong' nor 'id' terms to look for")
    return concept


def parse_stanzas(text: str, name: str) -> list[Concept]:
    """The project's format: `key: value` lines, one concept per blank-line-separated stanza."""
    concepts: list[Concept] = []
    fields: dict[str, str] = {}
    first_line = 0
    for lineno, raw in enumerate(text.splitlines() + [""], start=1):
        line = raw.strip()
        if line.startswith("#"):
            continue
        if not line:
            if fields:
                concepts.append(_make_concept(fields, f"{name}:{first_line}"))
                fields = {}
            continue
        key, sep, value = line.partition(":")
        key = key.strip().lower()
        if not sep or key not in _KEYS:
            raise GlossaryError(
                f"{name}:{lineno}: expected 'key: value' with key one of {', '.join(sorted(_KEYS))}, found {line[:40]!r}"
            )
        if not fields:
            first_line = lineno
        fields[key] = value.strip()
    return concepts


def parse_delimited(text: str, name: str, delimiter: str) -> list[Concept]:
    """CSV/TSV with a header row naming the same keys as the stanza format."""
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    if "en" not in header:
        raise GlossaryError(f"{name}:1: header must include an 'en' column; found {header}")
    unknown = set(header) - _KEYS
    if unknown:
        raise GlossaryError(f"{name}:1: unknown columns {sorted(unknown)}; expected {sorted(_KEYS)}")
    reader.fieldnames = header
    concepts = []
    for row in reader:
        if not any((v or "").strip() for v in row.values()):
            continue
        concepts.append(_make_concept({k: v or "" for k, v in row.items() if k}, f"{name}:{reader.line_num}"))
    return concepts


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


def load_glossary_file(path: Path) -> Glossary:
    """Read one glossary file, choosing the parser by suffix."""
    data, text = _read(path)
    return _parse(text or "", path.name, path.suffix.lower(), data)


def _parse(text: str, name: str, suffix: str, data: bytes) -> Glossary:
    if suffix == ".csv":
        concepts = parse_delimited(text, name, ",")
    elif suffix == ".tsv":
        concepts = parse_delimited(text, name, "\t")
    elif suffix in (".tbx", ".xml"):
        from .tbx import parse_tbx

        concepts = parse_tbx(data, name)
    else:
        concepts = parse_stanzas(text, name)
    digest = hashlib.sha256(data).hexdigest()[:8]
    return Glossary(tuple(concepts), (f"{name}@{digest}",))


_LOCATION = re.compile(r"^[^:]+:(\d+): (.*)$", re.DOTALL)


def check_glossary_file(path: Path) -> list[tuple[int, str]]:
    """Every problem in a glossary as (line, message); an empty list when it is fine.

    Unlike loading, which stops at the first error, this reads on past each bad concept.
    """
    data, text = _read(path)
    suffix = path.suffix.lower()
    if suffix in (".tbx", ".xml"):
        from .tbx import check_tbx

        return check_tbx(data, path.name)
    assert text is not None
    problems: list[tuple[int, str]] = []

    def attempt(chunk: str, parse) -> None:  # type: ignore[no-untyped-def]
        try:
            parse(chunk)
        except GlossaryError as exc:
            m = _LOCATION.match(str(exc))
            problems.append((int(m.group(1)), m.group(2)) if m else (0, str(exc)))

    if suffix in (".csv", ".tsv"):
        delimiter = "," if suffix == ".csv" else "\t"
        lines = text.splitlines()
        parse = lambda chunk: parse_delimited(chunk, path.name, delimiter)  # noqa: E731
        attempt(lines[0] if lines else "", parse)
        if problems:
            return problems
        for lineno in range(2, len(lines) + 1):
            # the header, blank lines, then one row: its errors name its own line
            attempt(lines[0] + "\n" * (lineno - 1) + lines[lineno - 1], parse)
        return problems
    stanza: list[str] = []
    start = 1
    for lineno, raw in enumerate(text.splitlines() + [""], start=1):
        if raw.strip():
            if not stanza:
                start = lineno
            stanza.append(raw)
        elif stanza:
            # padded with blank lines so that line numbers stay the file's
            attempt("\n" * (start - 1) + "\n".join(stanza), lambda chunk: parse_stanzas(chunk, path.name))
            stanza = []
    return problems


def builtin_glossary() -> Glossary:
    """The news glossary shipped in the package."""
    resource = resources.files("mtqc") / "data" / f"{BUILTIN_GLOSSARY}.glossary"
    data = resource.read_bytes()
    return _parse(data.decode("utf-8"), f"{BUILTIN_GLOSSARY}.glossary", ".glossary", data)


def load_glossaries(paths: Iterable[Path], *, include_builtin: bool = True) -> Glossary:
    """The built-in glossary (unless disabled) merged with user glossaries, in order."""
    glossary = builtin_glossary() if include_builtin else Glossary()
    for path in paths:
        glossary = glossary.merged(load_glossary_file(path))
    return glossary
