"""The glossary shipped with mtqc, and the user's glossaries layered over it."""
from __future__ import annotations

from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import Iterable

from .concepts import Concept, Glossary
from .formats import load_glossary_file, parse_stanzas, signature_name
from .matcher import term_key

BUILTIN_GLOSSARY = "news-id-en"


def builtin_glossary() -> Glossary:
    """The news glossary shipped in the package."""
    resource = resources.files("mtqc") / "data" / f"{BUILTIN_GLOSSARY}.glossary"
    data = resource.read_bytes()
    name = f"{BUILTIN_GLOSSARY}.glossary"
    return Glossary(tuple(parse_stanzas(data.decode("utf-8"), name)), (signature_name(name, data),))


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
            if any(term_key(t) in claimed for t in concept.indonesian):
                continue
            wrong = tuple(t for t in concept.wrong if term_key(t) not in accepted)
            if wrong != concept.wrong:
                if not wrong and not concept.indonesian:
                    continue
                concept = replace(concept, wrong=wrong)
            kept.append(replace(concept, layer=kind))
        for concept in kept:
            claimed.update(term_key(t) for t in concept.indonesian)
            accepted.update(term_key(t) for t in (concept.preferred, *concept.accepted))
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
