"""Glossary files: the project's stanza format (`*.txt`, `*.glossary`), CSV, TSV and TBX (`tbx`).

Loading and `mtqc glossary check` share one single-pass reader per format: loading raises the
first problem the reader finds, checking lists them all, with the same line numbers.
"""
from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from ..errors import GlossaryError
from ..results import SEVERITIES
from .concepts import Concept, Glossary
from .tbx import inspect_tbx, parse_tbx

_KEYS = {"id", "en", "accept", "wrong", "note", "source", "severity"}
_LIST_SEP = re.compile(r"\s*[;|]\s*")
# line ends as csv (and editors) count them; str.splitlines() would also split on \x0c, \u2028 ...
_LINE_END = re.compile(r"\r\n|\r|\n")
_XML_SUFFIXES = (".tbx", ".xml")
# a trailing comment in the stanza format: '#' after whitespace ("en: reporters  # preferred");
# a '#' inside a word is the value's own ("C#", "F#")
_TRAILING_COMMENT = re.compile(r"\s#.*$")
# what `format_glossary` writes, by suffix: what `load_glossary_file` reads back with the same suffix
STANZA_SUFFIXES = (".glossary", ".txt")
WRITABLE_SUFFIXES = (*STANZA_SUFFIXES, ".csv", ".tsv")
_COLUMNS = ("id", "en", "accept", "wrong", "note", "source", "severity")  # the stanza keys, as CSV/TSV columns


@dataclass(frozen=True)
class GlossaryCheck:
    """What `mtqc glossary check` reports for one file: the concepts read and every problem."""

    concepts: tuple[Concept, ...]
    problems: tuple[tuple[int, str], ...]  # (line, message), in file order


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
        line = _TRAILING_COMMENT.sub("", line).rstrip()
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


def _strict(items: Iterable[Concept | tuple[int, str]], name: str) -> list[Concept]:
    """The concepts, raising the first problem as "name:line: problem"."""
    concepts = []
    for item in items:
        if isinstance(item, tuple):
            line, message = item
            raise GlossaryError(f"{name}:{line}: {message}")
        concepts.append(item)
    return concepts


def parse_stanzas(text: str, name: str) -> list[Concept]:
    """The project's format: `key: value` lines, one concept per blank-line-separated stanza.

    A line starting with '#' is a comment, and so is the rest of a line from a '#' that follows
    whitespace (`en: reporters  # preferred`); a '#' not preceded by whitespace is part of the
    value ("C#").

    Raises:
        GlossaryError: At the first problem, as "name:line: problem".
    """
    return _strict(_scan_stanzas(text, name), name)


def signature_name(name: str, data: bytes) -> str:
    """How a glossary file is named in the report signature: name@sha256-prefix of its bytes."""
    return f"{name}@{hashlib.sha256(data).hexdigest()[:8]}"


def _read(path: Path) -> tuple[bytes, str | None]:
    """Bytes, and text for the line-based formats (XML decodes itself, whatever its encoding)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise GlossaryError(f"{path}: cannot read glossary ({exc.strerror or exc})") from exc
    if path.suffix.lower() in _XML_SUFFIXES:
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
    if suffix in _XML_SUFFIXES:
        concepts = parse_tbx(data, path.name)
    else:
        concepts = _strict(_scan(text or "", path.name, suffix), path.name)
    return Glossary(tuple(concepts), (signature_name(path.name, data),))


def inspect_glossary_file(path: Path) -> GlossaryCheck:
    """Every problem in a glossary, and the concepts that read well, in one pass.

    Unlike loading, which stops at the first problem, this reads on past each bad concept; the
    first problem listed is the one loading raises (TBX also lists entries it skips).

    Raises:
        GlossaryError: The file cannot be read or is not UTF-8.
    """
    data, text = _read(path)
    suffix = path.suffix.lower()
    if suffix in _XML_SUFFIXES:
        tbx_concepts, problems = inspect_tbx(data, path.name)
        return GlossaryCheck(tuple(tbx_concepts), tuple(problems))
    concepts: list[Concept] = []
    found: list[tuple[int, str]] = []
    for item in _scan(text or "", path.name, suffix):
        if isinstance(item, tuple):
            found.append(item)
        else:
            concepts.append(item)
    return GlossaryCheck(tuple(concepts), tuple(found))


def check_glossary_file(path: Path) -> list[tuple[int, str]]:
    """Every problem in a glossary as (line, message); an empty list when it is fine."""
    return list(inspect_glossary_file(path).problems)


def format_glossary(concepts: Iterable[dict[str, str]], suffix: str, comments: Iterable[str] = ()) -> str:
    """Concepts (each `key: value` fields, lists already joined by ';') as the format `suffix` names.

    Stanza files keep `comments` as `#` lines; CSV and TSV have no comments, so they are left out.

    Raises:
        GlossaryError: `suffix` is not one of `WRITABLE_SUFFIXES` (TBX is read, never written).
    """
    suffix = suffix.lower()
    if suffix in STANZA_SUFFIXES:
        header = "".join(f"# {line}\n" for line in comments)
        body = "\n".join("".join(f"{k}: {fields[k]}\n" for k in _COLUMNS if fields.get(k)) for fields in concepts)
        return header + ("\n" if header else "") + body
    if suffix in (".csv", ".tsv"):
        buffer = io.StringIO(newline="")
        # QUOTE_MINIMAL quotes a value holding the delimiter, a quote or a line break: the reader gets it back
        writer = csv.writer(buffer, delimiter="," if suffix == ".csv" else "\t", lineterminator="\n")
        writer.writerow(_COLUMNS)
        for fields in concepts:
            writer.writerow([fields.get(k, "") for k in _COLUMNS])
        return buffer.getvalue()
    raise GlossaryError(f"cannot write a glossary as {suffix or 'a file without a suffix'!r}; "
                        f"name the file with one of {', '.join(WRITABLE_SUFFIXES)}")
