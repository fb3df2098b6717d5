"""TBX (ISO 30042) terminology files as glossaries.

Both dialects in use are read:

* TBX-Basic / TBX 2008 ("martif"):
  ``martif/text/body/termEntry/langSet[@xml:lang]/tig/term`` (or ``ntig/termGrp/term``).
* TBX v3 core / TBX-Basic v3 (root ``tbx``, namespace ``urn:iso:std:iso:30042:ed-2``):
  ``tbx/text/body/conceptEntry/langSec[@xml:lang]/termSec/term``.

Elements are matched by local name, so files with or without namespaces both work.

Mapping of one entry (``termEntry``/``conceptEntry``) to a :class:`~mtqc.glossary.Concept`:

* English (``xml:lang`` ``en``, ``en-US``, ``en-GB``, ...): the term whose
  ``termNote type="administrativeStatus"`` (``preferredTerm-admn-sts``) or
  ``type="normativeAuthorization"`` (``preferredTerm``) says preferred becomes ``preferred``;
  failing that, the first admitted or unmarked term. Other admitted/unmarked English terms
  become ``accepted``; deprecated and superseded ones become ``wrong``.
* Indonesian (``id``, ``id-ID``, and the old code ``in``): every term, whatever its status,
  becomes ``indonesian`` (any of them left in the English text is worth flagging).
* ``descrip type="definition"`` and ``note`` (entry level and English) become ``note``;
  ``admin type="source"`` / ``descrip type="source"`` become ``source``.
* mtqc extension: ``<descrip type="severity">major</descrip>`` (also ``admin`` or ``termNote``,
  and type ``mtqcSeverity``) sets the severity (minor, major, critical; default minor).
* ``origin`` is ``name:line`` of the entry's start tag.

Entries that give nothing to look for (no usable English term, or neither Indonesian nor
deprecated terms) are skipped by :func:`parse_tbx`, since real exports are full of them;
:func:`inspect_tbx` lists them, with other problems, by line (for `mtqc glossary check`).

Safety: the file is parsed once with defusedxml's expat parser. Entity declarations (the
"billion laughs" and external-entity ``file:///etc/passwd`` attacks) are refused before anything
expands, and external DTDs named in a ``<!DOCTYPE ... SYSTEM "...">`` are never fetched. An
internal DTD subset without entities is tolerated: expat does not apply its attribute defaults
to anything we read.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from xml.etree.ElementTree import Element, ParseError, TreeBuilder

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from ..errors import GlossaryError
from ..results import SEVERITIES
from .concepts import Concept

_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_ENTRY_TAGS = {"termEntry", "conceptEntry"}
_LANG_TAGS = {"langSet", "langSec"}
_TERM_TAGS = {"tig", "ntig", "termSec"}
_STATUS_TYPES = {"administrativeStatus", "normativeAuthorization"}
_SEVERITY_TYPES = {"severity", "mtqcseverity"}
# ISO 12620 administrative statuses, normalised (suffix "-admn-sts" dropped, lower case)
_PREFERRED = {"preferredterm", "standardizedterm"}
_ADMITTED = {"admittedterm", "legalterm", "regulatedterm"}
_WRONG = {"deprecatedterm", "supersededterm"}


class _TbxFatal(Exception):
    """The whole file is unusable; carries the line so both entry points can report it."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


@dataclass(frozen=True)
class _Entry:
    """What one entry yielded: a concept (or None) and the problems found on the way."""

    concept: Concept | None
    problems: list[tuple[int, str]] = field(default_factory=list)
    fatal: list[tuple[int, str]] = field(default_factory=list)  # errors parse_tbx must raise


class _LineTreeBuilder(TreeBuilder):
    """A TreeBuilder that remembers the source line of each element's start tag."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: dict[Element, int] = {}
        self.expat: Any = None  # set once the parser exists

    def start(self, tag: str, attrs: dict[str, str]) -> Element:
        elem = super().start(tag, attrs)
        # expat reports the current event's position: the start tag's line
        self.lines[elem] = self.expat.CurrentLineNumber if self.expat is not None else 0
        return elem


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _text(elem: Element) -> str:
    return " ".join("".join(elem.itertext()).split())


def _entity_line(data: bytes, name: str | None) -> int:
    """Line of the offending <!ENTITY ...> declaration (expat does not say), else 1."""
    pattern = rb"<!ENTITY\s+(?:%\s+)?" + (re.escape(name.encode()) + rb"\s" if name else b"")
    match = re.search(pattern, data)
    return data.count(b"\n", 0, match.start()) + 1 if match else 1


def _parse_xml(data: bytes) -> tuple[Element, dict[Element, int]]:
    """Parse safely, returning the root and each element's line; raises _TbxFatal."""
    builder = _LineTreeBuilder()
    parser = DefusedXMLParser(target=builder, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    builder.expat = parser.parser  # pure-Python XMLParser (defusedxml forces it) exposes expat
    try:
        parser.feed(data)
        root = parser.close()
    except DefusedXmlException as exc:
        entity = getattr(exc, "name", None)
        what = f" (found {entity!r})" if entity else ""
        raise _TbxFatal(
            _entity_line(data, entity),
            f"entity declarations are not allowed in a TBX glossary{what}; remove the DOCTYPE's internal subset",
        ) from None
    except ParseError as exc:
        line, column = getattr(exc, "position", (1, 0))
        message = re.sub(r": line \d+, column \d+$", "", str(exc))
        raise _TbxFatal(line, f"not well-formed XML: {message} (column {column + 1})") from None
    except LookupError as exc:  # an encoding declaration Python does not know
        raise _TbxFatal(1, f"the XML declaration names an unknown encoding ({exc}); save the file as UTF-8") from None
    return root, builder.lines


def _lang(elem: Element) -> str:
    """Primary language subtag of a langSet/langSec ("en-US" -> "en"); TBX 2 files may use `lang`."""
    value = elem.get(_XML_LANG) or elem.get("lang") or ""
    return value.strip().lower().replace("_", "-").split("-")[0]


def _walk(elem: Element, skip: set[str]) -> Any:
    """Descendants of `elem` in document order, not entering elements whose local name is in `skip`.

    Iterative: a hostile file may nest elements thousands deep.
    """
    stack = [iter(elem)]
    while stack:
        child = next(stack[-1], None)
        if child is None:
            stack.pop()
            continue
        yield child
        if _local(child.tag) not in skip:
            stack.append(iter(child))


def _term_status(container: Element, lines: dict[Element, int]) -> tuple[str, list[tuple[int, str]]]:
    """'preferred', 'admitted', 'wrong' or '' (unmarked) for one tig/ntig/termSec, and problems."""
    problems: list[tuple[int, str]] = []
    status = ""
    for node in container.iter():
        if _local(node.tag) != "termNote" or (node.get("type") or "") not in _STATUS_TYPES:
            continue
        raw = _text(node)
        value = raw.lower().removesuffix("-admn-sts")
        if value in _PREFERRED:
            status = "preferred"
        elif value in _WRONG:
            status = "wrong"
        elif value in _ADMITTED:
            status = status or "admitted"
        else:
            problems.append((lines.get(node, 0), f"unknown {node.get('type')} value {raw!r}; expected one of "
                             "preferredTerm-admn-sts, admittedTerm-admn-sts, deprecatedTerm-admn-sts, "
                             "supersededTerm-admn-sts"))
    return status, problems


def _unique(items: list[str]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for item in items:
        if item and item.lower() not in {s.lower() for s in seen}:
            seen[item] = None
    return tuple(seen)


def _read_entry(entry: Element, lines: dict[Element, int], name: str) -> _Entry:
    line = lines.get(entry, 0)
    problems: list[tuple[int, str]] = []
    fatal: list[tuple[int, str]] = []
    preferred: list[str] = []
    admitted: list[str] = []
    wrong: list[str] = []
    indonesian: list[str] = []
    english_langs: list[Element] = []
    for lang_elem in (e for e in _walk(entry, _LANG_TAGS) if _local(e.tag) in _LANG_TAGS):
        lang = _lang(lang_elem)
        if lang not in ("en", "id", "in"):
            continue
        if lang == "en":
            english_langs.append(lang_elem)
        for container in (e for e in lang_elem.iter() if _local(e.tag) in _TERM_TAGS):
            term_elem = next((e for e in container.iter() if _local(e.tag) == "term"), None)
            term = _text(term_elem) if term_elem is not None else ""
            if not term:
                continue
            status, status_problems = _term_status(container, lines)
            if lang != "en":
                indonesian.append(term)  # any Indonesian form left in the English text is worth a flag
                continue
            problems.extend(status_problems)
            if status == "preferred":
                preferred.append(term)
            elif status == "wrong":
                wrong.append(term)
            else:  # admitted or unmarked: an acceptable rendering
                admitted.append(term)

    # notes and sources: entry level and English only (the note is read by English editors)
    notes: list[str] = []
    sources: list[str] = []
    severity = "minor"
    scopes = [list(_walk(entry, _LANG_TAGS))] + [list(lang_elem.iter()) for lang_elem in english_langs]
    for node in (n for scope in scopes for n in scope):
        kind = (node.get("type") or "").lower()
        local = _local(node.tag)
        if local == "note" or (local == "descrip" and kind == "definition"):
            notes.append(_text(node))
        elif local in ("admin", "descrip") and kind == "source":
            sources.append(_text(node))
        elif local in ("admin", "descrip", "termNote") and kind in _SEVERITY_TYPES:
            value = _text(node).lower()
            if value in SEVERITIES:
                severity = value
            else:
                fatal.append((lines.get(node, line), f"severity {value!r} is not one of {', '.join(SEVERITIES)}"))

    if len(preferred) > 1:
        problems.append((line, f"entry has {len(preferred)} preferred English terms: {', '.join(preferred)}"))
    if not preferred and not admitted:
        what = "only deprecated English terms" if wrong else "no English term"
        problems.append((line, f"entry has {what} (needs a langSet/langSec xml:lang=\"en\" with a term)"))
        return _Entry(None, problems, fatal)
    chosen = (preferred + admitted)[0]
    accepted = [t for t in preferred[1:] + admitted if t.lower() != chosen.lower()]
    if not indonesian and not wrong:
        problems.append((line, f"entry {chosen!r} has neither Indonesian nor deprecated English terms to look for"))
        return _Entry(None, problems, fatal)
    concept = Concept(
        preferred=chosen,
        indonesian=_unique(indonesian),
        accepted=_unique(accepted),
        wrong=_unique(wrong),
        note=" ".join(_unique(notes)),
        source="; ".join(_unique(sources)),
        severity=severity,  # type: ignore[arg-type]
        origin=f"{name}:{line}",
    )
    return _Entry(concept, problems, fatal)


def _read(data: bytes, name: str) -> list[_Entry]:
    """Every entry of the file; raises _TbxFatal when the file as a whole is unusable."""
    root, lines = _parse_xml(data)
    root_name = _local(root.tag)
    if root_name not in ("martif", "tbx"):
        raise _TbxFatal(
            lines.get(root, 1),
            f"root element is <{root_name}>, expected <martif> (TBX-Basic/TBX 2008) or <tbx> (TBX v3)",
        )
    return [_read_entry(e, lines, name) for e in root.iter() if _local(e.tag) in _ENTRY_TAGS]


def parse_tbx(data: bytes, name: str) -> list[Concept]:
    """Read the concepts of a TBX glossary (TBX-Basic "martif" or TBX v3 "tbx").

    Args:
        data: The raw file contents (XML; the encoding declaration is honoured).
        name: The file name used in origins and error messages.

    Returns:
        One Concept per usable entry, in file order. Entries with nothing to look for are skipped.

    Raises:
        GlossaryError: The file is not well-formed XML, declares entities, has an unknown root
            element, or gives an invalid mtqc severity.
    """
    try:
        entries = _read(data, name)
    except _TbxFatal as exc:
        raise GlossaryError(f"{name}:{exc.line}: {exc.message}") from None
    for entry in entries:
        if entry.fatal:
            line, message = entry.fatal[0]
            raise GlossaryError(f"{name}:{line}: {message}")
    return [entry.concept for entry in entries if entry.concept is not None]


def inspect_tbx(data: bytes, name: str) -> tuple[list[Concept], list[tuple[int, str]]]:
    """Read a TBX glossary once: the concepts `parse_tbx` would return, and every problem.

    Args:
        data: The raw file contents.
        name: The file name used in origins.

    Returns:
        The concepts (none when the file has an error `parse_tbx` raises) and (line, problem)
        pairs sorted by line, empty when the file is fine.
    """
    try:
        entries = _read(data, name)
    except _TbxFatal as exc:
        return [], [(exc.line, exc.message)]
    if not entries:
        return [], [(1, "no termEntry (TBX-Basic) or conceptEntry (TBX v3) elements found")]
    problems = sorted((p for entry in entries for p in entry.fatal + entry.problems), key=lambda p: p[0])
    if any(entry.fatal for entry in entries):
        return [], problems
    return [entry.concept for entry in entries if entry.concept is not None], problems
