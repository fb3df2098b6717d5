"""Glossaries: concepts with a preferred English term, their files, and where their terms occur.

Modules, lowest first: `matcher` (the term-matching rules, one Aho-Corasick matcher), `concepts`
(Concept, Glossary), `tbx` and `formats` (reading files), `builtin` (the shipped glossary and
user precedence), `learn` (glossaries from review decisions; import it from there: it needs the
review package, which the rest does not).
"""
from __future__ import annotations

from .builtin import BUILTIN_GLOSSARY, builtin_glossary, layered, load_glossaries
from .concepts import Concept, Glossary, TermMatch
from .formats import (
    GlossaryCheck, check_glossary_file, inspect_glossary_file, load_glossary_file, parse_stanzas,
)
from .matcher import TermHit, TermMatcher, find_term, is_acronym
from .tbx import inspect_tbx, parse_tbx

__all__ = [
    "BUILTIN_GLOSSARY", "Concept", "Glossary", "GlossaryCheck", "TermHit", "TermMatch", "TermMatcher",
    "builtin_glossary", "check_glossary_file", "find_term", "inspect_glossary_file", "inspect_tbx",
    "is_acronym", "layered", "load_glossaries", "load_glossary_file", "parse_stanzas", "parse_tbx",
]
