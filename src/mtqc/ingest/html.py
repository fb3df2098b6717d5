"""HTML articles: the main text is extracted with trafilatura, then segmented like plain text."""
from __future__ import annotations

import re
from typing import Any

from ..errors import InputError
from .segments import Article, Paragraph, segment_paragraphs

# Fewer words than this in the extracted body is a teaser, a menu or an index page, not an
# article: scoring it would report a clean score for text nobody asked to check.
MIN_HTML_WORDS = 30

# trafilatura's output elements that hold paragraphs or other blocks, and those that are not prose
_BLOCK_TAGS = frozenset({"p", "head", "item", "cell", "quote", "div", "main", "body", "list", "table", "row", "doc"})
_SKIPPED = frozenset({"code", "graphic", "ref", "comments", "fw", "note"})
_HEAD_LEVEL = re.compile(r"h[1-6]")


def _text_with_breaks(element: Any) -> str:
    """An element's text with `<lb/>` line breaks kept as newlines."""
    parts = [element.text or ""]
    for child in element:
        if isinstance(child.tag, str):  # not a comment or processing instruction
            if child.tag == "lb":
                parts.append("\n")
            elif child.tag not in _SKIPPED:
                parts.append(_text_with_breaks(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _has_block_children(element: Any) -> bool:
    return any(isinstance(c.tag, str) and c.tag in _BLOCK_TAGS for c in element)


def _blocks(element: Any, out: list[tuple[str, bool]]) -> None:
    """Paragraphs (text, is_heading) of trafilatura's body, in order.

    A line break starts a new paragraph: pages laid out with `<div>` and `<br>` separate their
    paragraphs that way.
    """
    tag = element.tag if isinstance(element.tag, str) else ""
    if tag in _SKIPPED:
        return
    if _has_block_children(element):
        _add_lines(element.text or "", False, out)
        for child in element:
            if isinstance(child.tag, str) and child.tag in _BLOCK_TAGS:
                _blocks(child, out)
            elif isinstance(child.tag, str) and child.tag not in _SKIPPED and child.tag != "lb":
                _add_lines(_text_with_breaks(child), False, out)
            _add_lines(child.tail or "", False, out)
        return
    _add_lines(_text_with_breaks(element), tag == "head", out)


def _add_lines(text: str, heading: bool, out: list[tuple[str, bool]]) -> None:
    for line in text.split("\n"):
        line = " ".join(line.split())
        if line:
            out.append((line, heading))


def _extract(html: str) -> tuple[list[tuple[str, bool]], dict[str, str]]:
    """The page's main-text paragraphs and its metadata (title, author, date, url, site)."""
    import trafilatura

    try:
        doc = trafilatura.bare_extraction(
            html, with_metadata=True, include_comments=False, include_tables=True, favor_precision=True,
            include_images=False, include_links=False, include_formatting=False,
            # only a date the page states, not one guessed from a copyright line
            date_extraction_params={"extensive_search": False},
        )
    except (ValueError, LookupError) as exc:  # lxml on markup (or an encoding declaration) it cannot take
        raise InputError(f"cannot parse the HTML ({exc}); expected a web page with an article") from exc
    body = getattr(doc, "body", None)  # a Document; with as_dict=True it would be a dict without one
    if body is None:
        return [], {}
    blocks: list[tuple[str, bool]] = []
    _blocks(body, blocks)
    metadata = {key: " ".join(str(value).split()) for key in ("title", "author", "date", "url", "sitename")
                if (value := getattr(doc, key, None))}
    title = metadata.get("title", "")
    if title and blocks and blocks[0][0] == title:
        blocks[0] = (title, True)  # the headline, run into the body by the extractor
    elif len(title.split()) >= 3 and not any(text == title for text, _ in blocks):
        # a headline outside the article element is still checked (a bare site name is not)
        blocks.insert(0, (title, True))
    return blocks, metadata


def html_to_text(html: str) -> str:
    """The page's main text, one paragraph per block, headings marked `# ` (as plain text reads them)."""
    blocks, _ = _extract(html)
    return "\n\n".join(("# " + text) if heading else text for text, heading in blocks)


def html_article(html: str, source: str) -> Article:
    """Extract the main text of a web page and segment it.

    `Article.text` is the extracted text, paragraphs separated by blank lines; offsets into the
    HTML are not kept (`source_start`/`source_end` are None).

    Raises:
        InputError: no main text found, or too little of it to be an article.
    """
    try:
        blocks, metadata = _extract(html)
    except InputError as exc:
        raise InputError(f"{source}: {exc}") from exc
    parts: list[str] = []
    paragraphs: list[Paragraph] = []
    length = 0
    for text, heading in blocks:
        if parts:
            parts.append("\n\n")
            length += 2
        paragraphs.append(Paragraph(length, length + len(text), heading))
        parts.append(text)
        length += len(text)
    article = segment_paragraphs(source, "".join(parts), paragraphs, metadata=metadata, guess_headline=False,
                                 source_map=lambda start, end: (None, None), format="html")
    words = article.word_count
    if words == 0:
        raise InputError(f"{source}: no article text found in the HTML (expected a page with an article body)")
    if words < MIN_HTML_WORDS:
        raise InputError(
            f"{source}: the page's main text is only {words} word{'s' if words != 1 else ''}, too short to be "
            f"an article (navigation or a teaser?); mtqc needs at least {MIN_HTML_WORDS}: save the article "
            "page itself, or its text as .txt"
        )
    return article
