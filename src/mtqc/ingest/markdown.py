"""Markdown articles: rendered to plain paragraphs with markdown-it-py, offsets mapped back to the file."""
from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from .segments import Article, OffsetRuns, Paragraph, read_header, segment_paragraphs

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token

_PARAGRAPH_GAP = "\n\n"


@lru_cache(maxsize=1)
def _parser() -> "MarkdownIt":
    from markdown_it import MarkdownIt

    # CommonMark plus GitHub tables and strikethrough; raw HTML is recognised (and dropped) rather
    # than shown as tag text. text_join is off so escapes and entities stay separate tokens
    # whose source form (`markup`) can be found in the file.
    return MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"]).disable("text_join")


class _Builder:
    """Accumulates the rendered text, its paragraphs, and where each piece came from in the file."""

    def __init__(self, offset: int) -> None:
        self.offset = offset  # where the parsed body starts in the file
        self.parts: list[str] = []
        self.length = 0
        self.runs = OffsetRuns()
        self.paragraphs: list[Paragraph] = []
        self._mark: tuple[int, int] | None = None  # parts and length before the open paragraph

    def open(self) -> None:
        self._mark = (len(self.parts), self.length)
        if self.length:
            self._append(_PARAGRAPH_GAP)

    def close(self, heading: bool) -> None:
        if self._mark is None:
            return
        n_parts, length = self._mark
        self._mark = None
        gap = len(_PARAGRAPH_GAP) if length else 0
        text = "".join(self.parts[n_parts:])[gap:]
        lead, trail = len(text) - len(text.lstrip()), len(text) - len(text.rstrip())
        if len(text) - lead - trail > 0:
            start = length + gap
            self.paragraphs.append(Paragraph(start + lead, start + len(text) - trail, heading))
        else:  # nothing to show: take the paragraph (and its gap) back out
            del self.parts[n_parts:]
            self.length = length
            self.runs.truncate(length)

    def _append(self, text: str) -> None:
        self.parts.append(text)
        self.length += len(text)

    def piece(self, text: str, source_start: int, source_length: int) -> None:
        """Rendered `text` that stands for `source_length` characters at `source_start` of the body."""
        if text:
            text = text.replace("\n", " ")  # one paragraph is one line of the rendered text
            self.runs.add(self.length, len(text), self.offset + source_start, source_length)
            self._append(text)


def _line_starts(text: str) -> list[int]:
    starts = [0]
    pos = text.find("\n")
    while pos >= 0:
        starts.append(pos + 1)
        pos = text.find("\n", pos + 1)
    return starts


def _inline(token: Token, body: str, lines: list[int], cursor: int, out: _Builder) -> int:
    """Render an inline token's text children, locating each in `body` from `cursor` on."""
    if token.map:
        cursor = max(cursor, lines[min(token.map[0], len(lines) - 1)])
    for child in token.children or []:
        if child.type in ("text", "code_inline"):
            content = child.content
            found = body.find(content, cursor) if content else -1
            if found >= 0:
                out.piece(content, found, len(content))
                cursor = found + len(content)
            else:  # not verbatim in the file (normalised whitespace): map it to where we are
                out.piece(content, cursor, 0)
        elif child.type == "text_special":  # an escape or entity: "\*" or "&amp;" in the file
            found = body.find(child.markup, cursor) if child.markup else -1
            if found >= 0:
                out.piece(child.content, found, len(child.markup))
                cursor = found + len(child.markup)
            else:
                out.piece(child.content, cursor, 0)
        elif child.type in ("softbreak", "hardbreak"):
            newline = body.find("\n", cursor)
            out.piece(" ", newline if newline >= 0 else cursor, 1 if newline >= 0 else 0)
            if newline >= 0:
                cursor = newline + 1
        # images (alt text is not prose), raw HTML tags and emphasis markers add no text
    return cursor


def _html_block(token: Token, body: str, lines: list[int], out: _Builder) -> None:
    """Text inside a raw HTML block (comments and bare tags give none)."""
    from bs4 import BeautifulSoup

    text = " ".join(BeautifulSoup(token.content, "html.parser").get_text(" ").split())
    if not text or not token.map:
        return
    start = lines[min(token.map[0], len(lines) - 1)]
    end = lines[token.map[1]] if token.map[1] < len(lines) else len(body)
    out.open()
    out.piece(text, start, len(body[start:end].rstrip("\n")))
    out.close(False)


def markdown_article(raw: str, source: str) -> Article:
    """Render Markdown to plain paragraphs and segment them.

    `Article.text` is the rendered text (no `**`, list markers, code fences or front matter);
    segments' `source_start`/`source_end` point into `raw`, the file as read. Code blocks are
    not article prose and are left out; headings become heading segments.
    """
    metadata, body_start = read_header(raw)
    body = raw[body_start:]
    lines = _line_starts(body)
    out = _Builder(body_start)
    cursor = 0
    heading = False
    for token in _parser().parse(body):
        if token.type == "heading_open":
            heading = True
        elif token.type == "heading_close":
            heading = False
        elif token.type == "inline":
            out.open()
            cursor = _inline(token, body, lines, cursor, out)
            out.close(heading)
        elif token.type == "html_block":
            _html_block(token, body, lines, out)
        # fences, indented code and rules are not prose
    text = "".join(out.parts)
    return segment_paragraphs(source, text, out.paragraphs, metadata=metadata, guess_headline=False,
                              source_map=out.runs.span, format="markdown")

