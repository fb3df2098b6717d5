"""Cheap checks editors want: doubled words, unbalanced quotes and brackets, local date/time styles."""
from __future__ import annotations

import calendar
import re
from dataclasses import replace

from ..ingest.lexicon import VisibleText
from ..results import Flag
from .base import ArticleContext, Signal, SignalOutput

_DOUBLED = re.compile(r"\b(\w+)\s+\1\b", re.IGNORECASE)
# "firm and firm", "clear, clear": a content word coordinated with itself, where Indonesian paired two
# near-synonyms ("tegas dan lugas") and MT gave both one English word
_SELF_COORDINATED = re.compile(r"\b([A-Za-z]{4,})(?:,\s+|\s+(?:and|or)\s+)\1\b", re.IGNORECASE)
_LOCAL_TIME = re.compile(r"\b(\d{1,2})[.:](\d{2})(?:\s*(?:-|to|until|s/d)\s*(\d{1,2})[.:](\d{2}))?\s*(WIB|WITA|WIT)\b")
_SLASH_DATE = re.compile(r"\((\d{1,2})/(\d{1,2})(?:/(\d{2,4}))?\)")
_SPACE_BEFORE_CLOSING = re.compile(r"[,.!?]\s+[\u201d\"](?=\w)")
_PAIRS = {"(": ")", "[": "]", "\u201c": "\u201d"}
_CHECKS = ("doubled", "self_coordinated", "local_time", "slash_date", "quote_space", "unbalanced")


def _clock(hour: int, minute: int) -> str:
    if minute == 0 and hour in (0, 12):
        return "midnight" if hour == 0 else "noon"  # news style: "12 a.m." and "12 p.m." are misread
    suffix = "a.m." if hour < 12 else "p.m."
    h12 = hour % 12 or 12
    return f"{h12}{':%02d' % minute if minute else ''} {suffix}"


def _unbalanced(text: str) -> list[int]:
    """Offsets of brackets and quotes that have no partner.

    A straight quote closes an open curly one: machine translation often mixes the two.
    """
    stack: list[tuple[str, int]] = []
    bad: list[int] = []
    closers = {v: k for k, v in _PAIRS.items()}
    for i, ch in enumerate(text):
        if ch == '"':
            if stack and stack[-1][0] in ('"', "\u201c"):
                stack.pop()
            else:
                stack.append((ch, i))
        elif ch in _PAIRS:
            stack.append((ch, i))
        elif ch in closers:
            if stack and stack[-1][0] in (closers[ch], '"' if ch == "\u201d" else ""):
                stack.pop()
            else:
                bad.append(i)
    return bad + [i for _, i in stack]


class MechanicsSignal(Signal):
    """Doubled words, unbalanced quotes and brackets, Indonesian date and time styles."""

    name = "mechanics"
    flag_types = ("fluency", "other")

    def _compute(self, ctx: ArticleContext) -> list[SignalOutput]:
        by_paragraph: dict[int, list[int]] = {}
        for i, sentence in enumerate(ctx.sentences):
            by_paragraph.setdefault(sentence.paragraph, []).append(i)
        flags: list[list[Flag]] = [[] for _ in ctx.sentences]
        # per-check counts are features for a learned combiner: the checks differ in precision
        counts: list[dict[str, float]] = [dict.fromkeys(_CHECKS, 0.0) for _ in ctx.sentences]
        for i, sentence in enumerate(ctx.sentences):
            # checked without invisible characters (a soft hyphen inside "the" hides no doubled word);
            # spans point into the sentence as read
            visible = VisibleText(sentence.text)
            for check, flag in self._sentence_flags(visible.visible):
                flags[i].append(replace(flag, span=visible.span(*flag.span)) if flag.span else flag)
                counts[i][check] += 1
        # quotes and brackets often open in one sentence and close in the next: check paragraphs
        paragraphs = list(by_paragraph.values())
        for n, indices in enumerate(paragraphs):
            following = ctx.sentences[paragraphs[n + 1][0]].text if n + 1 < len(paragraphs) else ""
            # news style leaves a quotation open at a paragraph end when the next paragraph continues it
            continued = following[:1] in ('"', "\u201c")
            for local, flag in self._paragraph_quote_flags([ctx.sentences[i].text for i in indices], continued):
                flags[indices[local]].append(flag)
                counts[indices[local]]["unbalanced"] += 1
        return [SignalOutput({"mechanics.count": float(len(f)), **{f"mechanics.{k}": v for k, v in c.items()}}, tuple(f))
                for f, c in zip(flags, counts)]

    def _sentence_flags(self, text: str) -> list[tuple[str, Flag]]:
        """(check name, flag) for each problem found within one sentence."""
        out: list[tuple[str, Flag]] = []
        for m in _DOUBLED.finditer(text):
            if m.group(1).isdigit():
                continue
            out.append(("doubled", self.flag("fluency", "minor", m.span(), f"Word doubled: '{m.group(0)}'.", m.group(1))))
        for m in _SELF_COORDINATED.finditer(text):
            if m.group(1)[0].isupper() and m.start() > 0:
                continue  # a name joined to itself is a route or a pairing ("from Bogor to Depok and Depok to ...")
            out.append(("self_coordinated", self.flag(
                "fluency", "major", m.span(),
                f"'{m.group(0)}' coordinates a word with itself; the translation probably lost a second, different word.",
                None,
            )))
        for m in _LOCAL_TIME.finditer(text):
            h1, m1, h2, m2, zone = m.groups()
            if int(h1) > 23 or int(m1) > 59:
                continue
            when = _clock(int(h1), int(m1))
            if h2 and m2 and int(h2) <= 23 and int(m2) <= 59:
                when += f" to {_clock(int(h2), int(m2))}"
            out.append(("local_time", self.flag(
                "other", "minor", m.span(),
                f"Indonesian time format '{m.group(0)}' (24-hour clock with a dot, zone abbreviation).",
                f"{when} local time ({zone})",
            )))
        for m in _SLASH_DATE.finditer(text):
            day, month = int(m.group(1)), int(m.group(2))
            if 1 <= month <= 12 and 1 <= day <= 31:
                out.append(("slash_date", self.flag(
                    "other", "minor", m.span(),
                    f"Indonesian date style '{m.group(0)}' (day/month) is opaque to English readers.",
                    f"({calendar.month_name[month]} {day})",
                )))
        for m in _SPACE_BEFORE_CLOSING.finditer(text):
            out.append(("quote_space", self.flag(
                "other", "minor", m.span(), "Space before a closing quotation mark and none after it.",
                m.group(0)[0] + m.group(0)[-1] + " ",
            )))
        return out

    def _paragraph_quote_flags(self, texts: list[str], continued: bool) -> list[tuple[int, Flag]]:
        joined = "\n".join(texts)
        bad = _unbalanced(joined)
        if continued:
            # an opening quote may stay open when the next paragraph continues the quotation
            bad = [i for i in bad if joined[i] not in ('"', "\u201c")]
        out = []
        for offset in sorted(set(bad)):
            local, base = 0, 0
            for k, t in enumerate(texts):
                if offset < base + len(t):
                    local = k
                    break
                base += len(t) + 1
            pos = offset - base
            out.append((local, self.flag(
                "other", "minor", (pos, pos + 1), f"Unbalanced '{joined[offset]}' in this paragraph.", None,
            )))
        return out
