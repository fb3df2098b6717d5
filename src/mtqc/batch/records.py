"""An article's result in a batch: the one record that summary.jsonl, summary.json and index.html are made of."""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from typing import Any, Mapping

from .sources import Unit

# error_kind of a failed article: it could not be checked, its reports could not be written,
# mtqc itself failed (a bug), the batch was interrupted before reaching it, or the engine failed
# for a reason that may pass (a server error, a rate limit, a timeout: TransientEngineError).
# Only INPUT is final for an unchanged article; every other kind is checked again by the next run.
INPUT, WRITE, INTERNAL, INTERRUPTED, ENGINE = "input", "write", "internal", "interrupted", "engine"

# the record's own JSON keys, in the order they are written; any other key is an extra (`extras`)
_KEYS = ("path", "relative", "score", "json", "html", "report_id", "by_severity", "error", "error_kind", "traceback",
         "content_sha256", "signature_sha256", "id", "line")


_TEXT_KEYS = ("relative", "json", "html", "report_id", "error", "error_kind", "traceback", "content_sha256",
              "signature_sha256", "id")


def _number(value: Any) -> bool:
    """A JSON number a summary can hold (not a bool, not NaN or infinite, not too big for a float)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


def _counts(value: Any) -> bool:
    return value is None or isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool) for k, v in value.items())


def _phrase(value: Any) -> bool:
    """One `flagged_phrases` entry as the index page reads it."""
    return isinstance(value, dict) and isinstance(value.get("key"), str) and isinstance(value.get("text"), str) and (
        value.get("sentence") is None or isinstance(value.get("sentence"), int)) and (
        value.get("flag") is None or isinstance(value.get("flag"), int)) and all(
        value.get(k) is None or isinstance(value.get(k), list) and all(x is None or isinstance(x, str)
                                                                         for x in value[k])
        for k in ("types", "signals"))


def check_record_json(data: Any) -> Mapping[str, Any]:
    """`data` when it is a record object with every field of its type; else ValueError saying which is not.

    summary.jsonl may be hand-edited or damaged: a record read back from it is trusted (reused,
    summarised, rendered) only when it has the shape this module writes.
    """
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    wrong = [k for k in _TEXT_KEYS if data.get(k) is not None and not isinstance(data[k], str)]
    if not isinstance(data.get("path"), str):
        wrong.append("path")
    if data.get("score") is not None and not _number(data["score"]):
        wrong.append("score")
    line = data.get("line")
    if line is not None and (isinstance(line, bool) or not isinstance(line, int)):
        wrong.append("line")
    wrong += [k for k in ("by_severity", "by_type") if not _counts(data.get(k))]
    suppressed = data.get("suppressed")
    if suppressed is not None and (isinstance(suppressed, bool) or not isinstance(suppressed, int)):
        wrong.append("suppressed")
    phrases = data.get("flagged_phrases")
    if phrases is not None and not (isinstance(phrases, list) and all(_phrase(p) for p in phrases)):
        wrong.append("flagged_phrases")
    # the index's ranking fields (`mtqc.reports.index.summary_row_extras`)
    for key in ("to_fix", "to_check"):
        if data.get(key) is not None and (isinstance(data[key], bool) or not isinstance(data[key], int)):
            wrong.append(key)
    if data.get("expected_wrong") is not None and not _number(data["expected_wrong"]):
        wrong.append("expected_wrong")
    if data.get("headline") is not None and not isinstance(data["headline"], str):
        wrong.append("headline")
    top = data.get("top_issue")
    if top is not None and not (isinstance(top, dict) and all(
            top.get(k) is None or isinstance(top[k], str) for k in ("type", "severity", "text")) and all(
            top.get(k) is None or isinstance(top[k], int) and not isinstance(top[k], bool) for k in ("sentence", "flag"))):
        wrong.append("top_issue")
    if wrong:
        raise ValueError(f"wrong type of {', '.join(wrong)}")
    return data


def rounded(score: float | None) -> float | None:
    """A score as the summary records it (2 decimals: the reports' own precision)."""
    return None if score is None else round(score, 2)


@dataclass(frozen=True)
class ArticleRecord:
    """One article's outcome: a score and its report pair, or an error; one line of summary.jsonl.

    A worker gets the article's identity (path, relative, id, line, hashes) in its job and fills
    in the rest; the driver keeps, journals and summarises the record as it comes back. A rerun
    reads it back from summary.jsonl to decide whether the article needs checking again.
    """

    path: str  # as given: a file, or `FILE.jsonl#ID` / `FILE.jsonl:LINE`, which are not file paths
    relative: str | None = None  # the path inside the batch folder; a JSONL article's id
    score: float | None = None  # rounded (see `rounded`)
    json_rel: str | None = None  # the report pair, relative to OUTDIR; None unless written
    html_rel: str | None = None
    report_id: str | None = None  # carried by both reports of the pair
    by_severity: Mapping[str, int] = field(default_factory=dict)
    error: str | None = None
    error_kind: str | None = None  # INPUT | WRITE | INTERNAL | INTERRUPTED | ENGINE
    traceback: str | None = None  # of an internal error, under --debug
    content_sha256: str | None = None  # of the article as stored (file bytes, JSONL line); None: unreadable
    signature_sha256: str | None = None  # of the checker's signature; None with no content hash
    article_id: str | None = None  # JSONL
    line: int | None = None  # JSONL
    extras: Mapping[str, Any] = field(default_factory=dict)  # by_type, flagged_phrases, ...: for the index page

    @classmethod
    def of(cls, unit: Unit, content_sha256: str | None, signature_sha256: str) -> ArticleRecord:
        """The record of `unit` before it is checked: who it is, and what it was checked as."""
        relative = unit.jsonl_id if unit.jsonl_id is not None else (
            str(unit.relative) if unit.relative is not None else None)
        return cls(unit.path, relative, content_sha256=content_sha256,
                   signature_sha256=signature_sha256 if content_sha256 else None,
                   article_id=unit.jsonl_id, line=unit.line)

    def failed_as(self, error: str, kind: str, traceback: str | None = None) -> ArticleRecord:
        """This record with an error, and without what only a success has."""
        return replace(self, error=error, error_kind=kind, traceback=traceback, json_rel=None, html_rel=None,
                       report_id=None)

    @property
    def failed(self) -> bool:
        return self.error is not None

    @property
    def unit_key(self) -> str | None:
        """The `Unit.key` of the article this record may be reused for; None for one never reused.

        Only a record with a content hash can be matched to an unchanged article again (bad JSONL
        lines and unreadable files cannot).
        """
        if not self.content_sha256:
            return None
        return f"id:{self.article_id}" if self.article_id is not None else self.relative

    def to_json(self) -> dict[str, Any]:
        """The summary.json / summary.jsonl object."""
        values = (self.path, self.relative, self.score, self.json_rel, self.html_rel, self.report_id,
                  dict(self.by_severity), self.error, self.error_kind, self.traceback, self.content_sha256,
                  self.signature_sha256, self.article_id, self.line)
        return {**dict(zip(_KEYS, values)), **self.extras}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ArticleRecord:
        """The record a summary object describes (keys it does not know are kept as extras).

        Raises:
            ValueError: a field has the wrong type (see `check_record_json`).
        """
        get = check_record_json(data).get
        return cls(str(get("path")), get("relative"), get("score"), get("json"), get("html"), get("report_id"),
                   dict(get("by_severity") or {}), get("error"), get("error_kind"), get("traceback"),
                   get("content_sha256"), get("signature_sha256"), get("id"), get("line"),
                   {k: v for k, v in data.items() if k not in _KEYS})

    def dumps(self) -> str:
        """One line of summary.jsonl (without its line end); also how the working index stores it."""
        return json.dumps(self.to_json(), ensure_ascii=False)

    @classmethod
    def loads(cls, text: str | bytes) -> ArticleRecord:
        """The record of one line; ValueError when the line is not a record object (see `check_record_json`)."""
        try:
            data = json.loads(text)
        except RecursionError:  # nested too deep to be a record
            raise ValueError("not a JSON object") from None
        return cls.from_json(data)
