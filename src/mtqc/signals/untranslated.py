"""Indonesian words and abbreviations left in the English, found by English vs Indonesian word frequency."""
from __future__ import annotations

import re
from functools import lru_cache

from ..ingest.lexicon import english_share_of_words, words_with_offsets, zipf_en, zipf_id
from ..results import Flag
from .base import ArticleContext, Signal, SignalOutput

_ACRONYM = re.compile(r"\b[A-Z]{2,6}\b")


@lru_cache(maxsize=1024)  # asked at every use of an acronym; the article's text is the same for all
def _explained(acronym: str, text: str) -> bool:
    """An acronym is explained when the article writes it in parentheses beside an expansion."""
    return bool(re.search(rf"\(\s*{re.escape(acronym)}\s*\)|\b{re.escape(acronym)}\s*\(", text))


def next_is_name(words: list[tuple[str, int, int]], i: int, text: str) -> bool:
    if i + 1 >= len(words):
        return False
    nxt, start, _ = words[i + 1]
    return nxt[0].isupper() and not nxt.isupper() and not text[words[i][2]:start].strip()


def _names_in_use(ctx: ArticleContext) -> set[str]:
    """Lowercased words the article writes capitalised inside a sentence, as English writes names.

    A common Indonesian word left untranslated is capitalised only where a sentence or a list
    label starts ("Menurut ...", "Kedalaman: 40 cm") or as an abbreviation ("Kab. Bogor"); a
    name is capitalised wherever it stands, so one capitalised use inside a sentence marks the
    word as a name in the whole article ("Wulandari said" at a sentence start is then a name
    too). Headings are skipped: title case capitalises every word.
    """
    names: set[str] = set()
    for sentence in ctx.sentences:
        if sentence.kind == "heading":
            continue
        text = sentence.text
        words = words_with_offsets(text)
        for k, (word, _, end) in enumerate(words):
            label = text[end:end + 1] == ":"
            abbreviation = text[end:end + 1] == "." and k + 1 < len(words)  # "Kab. Bogor", not a sentence end
            if k > 0 and word[0].isupper() and not word.isupper() and not label and not abbreviation:
                names.add(word.lower())
    return names


class UntranslatedSignal(Signal):
    """Indonesian words and abbreviations left in the English (English vs Indonesian word frequency)."""

    name = "untranslated"
    flag_types = ("untranslated",)
    THRESHOLDS = {
        "min_id_zipf": 3.5,  # the word is common in Indonesian...
        "max_en_zipf": 2.0,  # ...and rare in English
        "sentence_id_share": 0.5,  # share of Indonesian words that makes the whole sentence untranslated
    }

    def _is_indonesian(self, word: str) -> bool:
        lower = word.lower()
        en, idn = zipf_en(lower), zipf_id(lower)
        return idn >= self.thresholds["min_id_zipf"] and en <= self.thresholds["max_en_zipf"] and idn - en >= 2.0

    def _compute(self, ctx: ArticleContext) -> list[SignalOutput]:
        outputs = []
        reported_acronyms: set[str] = set()
        names = _names_in_use(ctx)
        for sentence in ctx.sentences:
            text = sentence.text
            words = words_with_offsets(text)
            # names are neither language: judge the sentence by its lowercase words
            english_share, known = english_share_of_words(
                [w for k, (w, _, _) in enumerate(words) if k == 0 or not w[0].isupper()]
            )
            if known >= 4 and english_share < 1 - self.thresholds["sentence_id_share"]:
                # critical: an English reader cannot follow the sentence at all; pinned: a sentence
                # in Indonesian is evidence that is nearly always right, so it is shown whatever the
                # calibration predicts from the sentence's other features
                flag = self.flag(
                    "untranslated", "critical", (0, len(text)),
                    f"The whole sentence was left in Indonesian ({1 - english_share:.0%} of its known words are "
                    "Indonesian).",
                    None, pinned=True, advice="Translate the sentence into English.",
                )
                outputs.append(SignalOutput({"untranslated.words": float(len(words)),
                                             "untranslated.indonesian_share": 1 - english_share}, (flag,)))
                continue
            flags: list[Flag] = []
            acronyms = 0
            for i, (word, start, end) in enumerate(words):
                if word.isupper() and len(word) >= 2:
                    if next_is_name(words, i, text):
                        continue  # an abbreviation that is part of a name: "DKI Jakarta"
                    acronym_flag = self._acronym_flag(word, start, end, ctx, reported_acronyms)
                    if acronym_flag:
                        flags.append(acronym_flag)
                        acronyms += 1
                    continue
                if not self._is_indonesian(word):
                    continue
                next_cap = i + 1 < len(words) and words[i + 1][0][0].isupper() and not text[end:words[i + 1][1]].strip(" ")
                prev_cap = i > 0 and words[i - 1][0][0].isupper() and not text[words[i - 1][2]:start].strip(" ")
                is_label = text[end:end + 1] == ":"  # "Kedalaman: 40 cm", a list label
                if word[0].isupper() and not is_label and (
                    word.lower() in names or next_cap or (start > 0 and (prev_cap or text[end:end + 1] != "."))
                ):
                    # a proper name ("Cibinong Utara", "Ratna Wulandari"), at the start of a sentence too:
                    # Indonesian names are frequent Indonesian words; glossary terms catch admin words
                    continue
                if not word[0].isupper() and prev_cap and self._is_indonesian(words[i - 1][0]) and not (
                    i + 1 < len(words) and self._is_indonesian(words[i + 1][0])
                ):
                    # the second word of an Indonesian place name written in lower case ("Kebon jeruk"):
                    # a left-over phrase runs on in Indonesian, a name stops
                    continue
                if text.count("(", 0, start) > text.count(")", 0, start):
                    continue  # an Indonesian name given in parentheses beside its English rendering
                span_end = end + 1 if text[end:end + 1] == "." and len(word) <= 4 else end
                flags.append(self.flag(
                    "untranslated", "minor" if word[0].isupper() else "major", (start, span_end),
                    f"'{text[start:span_end]}' looks like an Indonesian word left untranslated.",
                    None,
                ))
            # the share of Indonesian words and the acronym count are features for a learned combiner
            outputs.append(SignalOutput({"untranslated.count": float(len(flags)), "untranslated.acronyms": float(acronyms),
                                         "untranslated.indonesian_share": 1 - english_share if known else 0.0},
                                        tuple(flags)))
        return outputs

    def _acronym_flag(self, word: str, start: int, end: int, ctx: ArticleContext, reported: set[str]) -> Flag | None:
        if word in reported or len(word) > 6:
            return None
        lower = word.lower()
        en, idn = zipf_en(lower), zipf_id(lower)
        if not (idn >= self.thresholds["min_id_zipf"] and en <= self.thresholds["max_en_zipf"]):
            return None
        if _explained(word, ctx.article.text):
            return None
        reported.add(word)
        return self.flag(
            "untranslated", "minor", (start, end),
            f"'{word}' is an Indonesian abbreviation that the article never explains.",
            advice=f"Spell it out in English at first mention, e.g. 'English name ({word})'.",
        )
