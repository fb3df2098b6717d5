"""Editors' review files: the format, read and validated, and written from a report."""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any, Iterable, Mapping, Sequence

from ..errors import ReviewError
from ..results import FLAG_TYPES, SEVERITIES, ArticleReport
from .corrected import join_sentences

REVIEW_VERSION = 1
REVIEW_SUFFIX = ".review.json"
DECISIONS = ("accepted", "dismissed", "edited")
# a review is a few hundred kB at most; a file far larger is not one
MAX_REVIEW_BYTES = 50_000_000


def article_sha256(texts: Iterable[str]) -> str:
    """The fingerprint of an article's text as segmented: its sentences, one per line.

    The HTML report keys stored decisions by it and review files carry it, so that a decision
    never lands on a different text.
    """
    return hashlib.sha256("\n".join(texts).encode("utf-8")).hexdigest()


def report_article_sha256(report: ArticleReport) -> str:
    return article_sha256(s.text for s in report.sentences)


def review_file_name(source: str) -> str:
    """`<stem>.review.json` for an article's source name (`flood.txt` -> `flood.review.json`)."""
    stem = PurePath(source.replace("\\", "/")).stem or "article"
    return stem + REVIEW_SUFFIX


@dataclass(frozen=True)
class ReviewSentence:
    """A sentence of the reviewed article: as checked, and as the editor left it."""

    index: int
    text: str
    final: str
    paragraph: int | None = None
    kind: str = "sentence"
    text_before: str | None = None  # the article text before it, as read (its layout)


@dataclass(frozen=True)
class Decision:
    """The editor's decision on one flag (None: not decided)."""

    sentence_index: int
    sentence: str
    span: tuple[int, int] | None
    span_text: str | None
    type: str
    decision: str | None
    final: str
    note: str = ""
    severity: str = "minor"
    signal: str = ""
    suggestion: str | None = None
    message: str = ""
    glossary_entry: Mapping[str, Any] | None = field(default=None, compare=False)
    advice: str | None = None  # shown to the editor; never part of `final` unless they typed it


@dataclass(frozen=True)
class Review:
    """A review file: the article's sentences and a decision per flag."""

    source: str
    signature: str
    article_sha256: str
    sentences: tuple[ReviewSentence, ...]
    decisions: tuple[Decision, ...]
    report_id: str | None = None
    name: str = ""  # where it was read from, for messages

    def corrected_text(self) -> str:
        """The article as the editor left it, as plain text."""
        return join_sentences([(s.final, s.paragraph, s.text_before) for s in self.sentences])


class _Reader:
    """Validates one review document, naming the place of the first problem."""

    def __init__(self, name: str) -> None:
        self.name = name

    def fail(self, where: str, expected: str, found: Any) -> ReviewError:
        shown = repr(found)
        if len(shown) > 60:
            shown = shown[:57] + "..."
        return ReviewError(f"{self.name}: {where}: expected {expected}, found {shown}; "
                           "export the review again from the HTML report (Export review)")

    def get(self, obj: Mapping[str, Any], key: str, where: str, kind: type | tuple[type, ...], *,
            optional: bool = False, default: Any = None) -> Any:
        if key not in obj:
            if optional:
                return default
            raise ReviewError(f"{self.name}: {where}: missing key {key!r}; "
                              "export the review again from the HTML report (Export review)")
        value = obj[key]
        if value is None and optional:
            return default
        kinds = kind if isinstance(kind, tuple) else (kind,)
        # bool is an int in Python; a JSON true is never an index or a span
        if isinstance(value, bool) and bool not in kinds or not isinstance(value, kinds):
            names = " or ".join({int: "an integer", str: "a string", list: "a list", dict: "an object",
                                 float: "a number", bool: "true/false"}[k] for k in kinds)
            raise self.fail(f"{where}.{key}", names, value)
        return value


def _is_file_name(source: str) -> bool:
    """Whether `source` can name a file: `review apply` looks for the article by it."""
    if "\x00" in source:
        return False
    try:
        os.fsencode(source)
    except UnicodeError:  # a lone surrogate from JSON's "\ud800"
        return False
    return True


def parse_review(data: Any, name: str = "<review>") -> Review:
    """Validate a decoded review document.

    Raises:
        ReviewError: the document is not a review, or it contradicts itself (a span outside its
            sentence, a sentence that is not the article's, a fingerprint that does not match).
    """
    r = _Reader(name)
    if not isinstance(data, dict):
        raise r.fail("top level", "a JSON object (an mtqc review)", type(data).__name__)
    version = r.get(data, "mtqc_review", "top level", int)
    if version != REVIEW_VERSION:
        raise r.fail("mtqc_review", f"version {REVIEW_VERSION}", version)
    source = r.get(data, "source", "top level", str)
    if not _is_file_name(source):
        raise r.fail("source", "the article's file name (no NUL or unencodable character)", source)
    signature = r.get(data, "signature", "top level", str)
    digest = r.get(data, "article_sha256", "top level", str)
    report_id = r.get(data, "report_id", "top level", str, optional=True)
    raw_sentences = r.get(data, "sentences", "top level", list)
    sentences: list[ReviewSentence] = []
    for n, item in enumerate(raw_sentences):
        where = f"sentences[{n}]"
        if not isinstance(item, dict):
            raise r.fail(where, "an object", item)
        index = r.get(item, "index", where, int)
        if index != n:
            raise r.fail(f"{where}.index", f"{n} (sentences in order)", index)
        paragraph = r.get(item, "paragraph", where, int, optional=True)
        sentences.append(ReviewSentence(index, r.get(item, "text", where, str), r.get(item, "final", where, str),
                                        paragraph, r.get(item, "kind", where, str, optional=True, default="sentence"),
                                        r.get(item, "text_before", where, str, optional=True)))
    if article_sha256(s.text for s in sentences) != digest:
        raise ReviewError(f"{name}: article_sha256 does not match the sentences it lists; the file was changed "
                          "after export: export the review again from the HTML report")
    raw_flags = r.get(data, "flags", "top level", list)
    decisions = [_parse_decision(r, item, n, sentences) for n, item in enumerate(raw_flags)]
    return Review(source, signature, digest, tuple(sentences), tuple(decisions), report_id, name)


def _parse_decision(r: _Reader, item: Any, n: int, sentences: Sequence[ReviewSentence]) -> Decision:
    where = f"flags[{n}]"
    if not isinstance(item, dict):
        raise r.fail(where, "an object", item)
    index = r.get(item, "sentence_index", where, int)
    if not 0 <= index < len(sentences):
        raise r.fail(f"{where}.sentence_index", f"0 to {len(sentences) - 1}", index)
    sentence = r.get(item, "sentence", where, str)
    if sentence != sentences[index].text:
        raise r.fail(f"{where}.sentence", f"the text of sentence {index}", sentence)
    span_value = r.get(item, "span", where, list, optional=True)
    span: tuple[int, int] | None = None
    span_text: str | None = None
    if span_value is not None:
        if (len(span_value) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) for v in span_value)
                or not 0 <= span_value[0] < span_value[1] <= len(sentence)):
            raise r.fail(f"{where}.span", f"[start, end] with 0 <= start < end <= {len(sentence)}", span_value)
        span = (span_value[0], span_value[1])
        span_text = sentence[span[0]:span[1]]
        given = r.get(item, "span_text", where, str, optional=True, default=span_text)
        if given != span_text:
            raise r.fail(f"{where}.span_text", repr(span_text) + " (the sentence's text at span)", given)
    type_ = r.get(item, "type", where, str)
    if type_ not in FLAG_TYPES:
        raise r.fail(f"{where}.type", "one of " + ", ".join(FLAG_TYPES), type_)
    severity = r.get(item, "severity", where, str, optional=True, default="minor")
    if severity not in SEVERITIES:
        raise r.fail(f"{where}.severity", "one of " + ", ".join(SEVERITIES), severity)
    decision = r.get(item, "decision", where, str, optional=True)
    if decision is not None and decision not in DECISIONS:
        raise r.fail(f"{where}.decision", "accepted, dismissed, edited or null", decision)
    final = r.get(item, "final", where, str, optional=True, default=sentences[index].final)
    if final != sentences[index].final:
        raise r.fail(f"{where}.final", f"the final text of sentence {index}", final)
    entry = r.get(item, "glossary_entry", where, dict, optional=True)
    return Decision(index, sentence, span, span_text, type_, decision, final,
                    note=r.get(item, "note", where, str, optional=True, default=""), severity=severity,
                    signal=r.get(item, "signal", where, str, optional=True, default=""),
                    suggestion=r.get(item, "suggestion", where, str, optional=True),
                    message=r.get(item, "message", where, str, optional=True, default=""), glossary_entry=entry,
                    advice=r.get(item, "advice", where, str, optional=True))


def _reject_constant(value: str) -> float:
    raise ValueError(f"{value} is not a JSON number")


def loads_review(text: str, name: str = "<review>") -> Review:
    """Parse and validate a review from its JSON text.

    Raises:
        ReviewError: not JSON, or not a valid review.
    """
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        detail = f"line {exc.lineno} column {exc.colno}: {exc.msg}" if isinstance(exc, json.JSONDecodeError) else str(exc)
        raise ReviewError(f"{name}: not valid JSON ({detail}); a review file is the JSON the HTML report's "
                          "Export review button saves") from None
    return parse_review(data, name)


def load_review(path: Path) -> Review:
    """Read and validate a review file.

    Raises:
        ReviewError: missing, unreadable, too large, not UTF-8, not JSON, or not a valid review.
    """
    try:
        if path.stat().st_size > MAX_REVIEW_BYTES:
            raise ReviewError(f"{path}: {path.stat().st_size} bytes is too large for a review file "
                              f"(at most {MAX_REVIEW_BYTES}); is it the right file?")
        data = path.read_bytes()
    except OSError as exc:
        raise ReviewError(f"{path}: cannot read the review file ({exc.strerror or exc})") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ReviewError(f"{path}: the review file is not UTF-8 (byte {exc.start}); "
                          "export it again from the HTML report") from None
    return loads_review(text, str(path))


def review_to_dict(review: Review) -> dict[str, Any]:
    """The review file's JSON document (what the HTML report's export writes)."""
    return {
        "mtqc_review": REVIEW_VERSION,
        "source": review.source,
        "signature": review.signature,
        "report_id": review.report_id,
        "article_sha256": review.article_sha256,
        "sentences": [{"index": s.index, "text": s.text, "final": s.final, "paragraph": s.paragraph, "kind": s.kind,
                       "text_before": s.text_before}
                      for s in review.sentences],
        "flags": [{"sentence_index": d.sentence_index, "sentence": d.sentence,
                   "span": list(d.span) if d.span else None, "span_text": d.span_text, "type": d.type,
                   "severity": d.severity, "signal": d.signal, "message": d.message, "suggestion": d.suggestion,
                   "advice": d.advice,
                   "glossary_entry": dict(d.glossary_entry) if d.glossary_entry is not None else None,
                   "decision": d.decision, "final": d.final, "note": d.note}
                  for d in review.decisions],
    }


def review_from_report(report: ArticleReport, report_id: str | None = None) -> Review:
    """A review of `report` with nothing decided yet (what the HTML report starts from)."""
    sentences = tuple(ReviewSentence(s.index, s.text, s.text, s.paragraph, s.kind, s.text_before)
                      for s in report.sentences)
    decisions = tuple(
        Decision(s.index, s.text, f.span, s.text[f.span[0]:f.span[1]] if f.span else None, f.type, None, s.text,
                 severity=f.severity, signal=f.signal, suggestion=f.suggestion, message=f.message,
                 glossary_entry=f.glossary_entry, advice=f.advice)
        for s in report.sentences for f in s.flags)
    return Review(report.source, str(report.signature), report_article_sha256(report), sentences, decisions,
                  report_id)
