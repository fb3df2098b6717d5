"""Ingest: read an article (text, Markdown, HTML), keep its metadata, segment it with offsets.

Offsets (`Segment.start`/`end`) index `Article.text`: the file as read for plain text, the
rendered text for Markdown (markup removed; `source_start`/`source_end` point into the file),
the extracted main text for HTML.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Mapping

from ..errors import InputError
from .html import MIN_HTML_WORDS, html_article, html_to_text
from .language import check_english, detect_language
from .markdown import markdown_article
from .reading import decode, read_text
from .segments import METADATA_KEYS, Article, Paragraph, Segment, read_header, segment, segment_paragraphs

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm")

__all__ = [
    "Article", "Segment", "Paragraph", "SUPPORTED_SUFFIXES", "METADATA_KEYS", "MIN_HTML_WORDS",
    "load_article", "article_from_text", "segment", "segment_paragraphs", "check_english", "detect_language",
    "read_text", "decode", "read_header", "html_to_text", "html_article", "markdown_article",
]


def article_from_text(text: str, source: str, *, suffix: str = ".txt", max_bytes: int | None = None,
                      metadata: Mapping[str, str] | None = None) -> Article:
    """The one way text becomes an article: size limit, format (by suffix), metadata, language check.

    `metadata` (e.g. a JSON Lines record's own fields) wins over any header lines in the text.

    Raises:
        InputError: too large, nothing to check, too short a web page, or not English.
    """
    if max_bytes is not None and len(text.encode("utf-8")) > max_bytes:
        raise InputError(f"{source}: the text is over {max_bytes} bytes (MTQC_MAX_BYTES); split it or raise the limit")
    suffix = suffix.lower()
    if suffix in (".html", ".htm", ".md", ".markdown"):
        # their Article.text is derived (rendered, extracted), never the file as read: LF line ends
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if suffix in (".html", ".htm"):
        article = html_article(text, source)
    elif suffix in (".md", ".markdown"):
        article = markdown_article(text, source)
    else:
        article = segment(text, source)
    if metadata:
        article = replace(article, metadata={**article.metadata, **dict(metadata)})
    if not article.scored_segments:
        raise InputError(f"{source}: no article text found (only headers or boilerplate)")
    check_english(article)
    return article


def load_article(path: Path, max_bytes: int) -> Article:
    """Read, segment and language-check one article file.

    Raises:
        InputError: the file cannot be an English article (see `read_text` and `article_from_text`).
    """
    return article_from_text(read_text(path, max_bytes), str(path), suffix=path.suffix)
