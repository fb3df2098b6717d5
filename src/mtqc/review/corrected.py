"""The corrected article: an editor's final sentences joined back into the article's layout."""
from __future__ import annotations

from typing import Sequence


# JavaScript's whitespace (String.prototype.trim, \s), which Python's str.strip() exceeds
# (it also strips \x1c-\x1f and \x85): the browser's export and this one must agree
_JS_WHITESPACE = "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a" \
                 "\u2028\u2029\u202f\u205f\u3000\ufeff"


def join_sentences(sentences: Sequence[tuple[str, int | None, str | None]]) -> str:
    """The corrected article from (final text, paragraph, text_before) triples.

    Each kept sentence is preceded by the article text that preceded it as read (`text_before`:
    its line breaks and spacing, and a metadata header before the first), so an article left
    unedited comes back as it was read. A deleted (empty) sentence takes its separator with it,
    and the wider of the two separators around it stays. Where `text_before` is unknown (reports
    and review files from before it was recorded), a space joins the sentences of a paragraph and
    a blank line separates paragraphs. Line ends are the article's: CRLF where the separators
    as read have CRLF, else LF.

    The HTML report's "corrected text" export does exactly this in JavaScript; keep them alike.
    """
    pieces: list[str] = []
    pending: str | None = None
    last_paragraph: object = object()
    # an article read with CRLF line ends comes back with them, its last line included
    newline = "\r\n" if any(before and "\r\n" in before for _, _, before in sentences) else "\n"
    for text, paragraph, before in sentences:
        if before is None:
            before = " " if paragraph is not None and paragraph == last_paragraph else newline * 2
        last_paragraph = paragraph
        pending = before if pending is None else _merge_separators(pending, before)
        text = text.strip(_JS_WHITESPACE)
        if text:
            pieces += [pending, text]
            pending = None
    joined = "".join(pieces).strip(_JS_WHITESPACE)
    return joined + newline if joined else ""


def _widest(a: str, b: str) -> str:
    """Of two runs of whitespace, the one that breaks more lines (or, breaking as many, is longer)."""
    return b if (b.count("\n"), len(b)) > (a.count("\n"), len(a)) else a


def _merge_separators(a: str, b: str) -> str:
    """The separator left where a deleted sentence stood between separators `a` and `b`: any
    text they hold is kept, their whitespace where they meet is the wider of the two."""
    a_text, b_text = a.rstrip(_JS_WHITESPACE), b.lstrip(_JS_WHITESPACE)
    return a_text + _widest(a[len(a_text):], b[:len(b) - len(b_text)]) + b_text
