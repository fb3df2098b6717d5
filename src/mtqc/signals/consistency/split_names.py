"""One name written as one word and as two ("Tirtamulya" / "Tirta Mulya")."""
from __future__ import annotations

import re
from collections import Counter, defaultdict

from ...ingest.lexicon import zipf_en
from ...results import Flag
from ..base import ArticleContext
from .common import (
    ConsistencyMechanism,
    Mention,
    glossary_choice,
    is_glossary_wrong,
    minority,
    squash,
)

# a capitalised word, also CamelCase or hyphenated ("Tirtamulya", "TirtaMulya", "Tirta-Mulya")
_CAP_WORD = re.compile(r"\b[A-Z][a-z]+(?:-?[A-Z]?[a-z]+)*\b")


class SplitNamesSignal(ConsistencyMechanism):
    """One name written as one word and as two ("Tirtamulya" / "Tirta Mulya", "TirtaMulya").

    Indonesian names are often compounds that writers join or split at will, and MT copies
    whichever its source sentence had. Forms are grouped by their letters alone, so two names
    that merely share a word ("Tirta Mulya", "Tirta Jaya") never meet.
    """

    name = "consistency.split_names"

    def _find(self, ctx: ArticleContext, texts: list[str]) -> list[tuple[int, Flag]]:
        forms: dict[str, dict[str, list[Mention]]] = defaultdict(lambda: defaultdict(list))
        for i, text in enumerate(texts):
            tokens = [(m.group(0), m.start(), m.end()) for m in _CAP_WORD.finditer(text)]
            for k, (word, start, end) in enumerate(tokens):
                forms[squash(word)][word].append(Mention(i, start, end, word))
                # the same name split into two or three capitalised words, one space apart
                for n in (2, 3):
                    run = tokens[k:k + n]
                    if len(run) < n or any(text[a[2]:b[1]] != " " for a, b in zip(run, run[1:])):
                        break
                    surface = text[start:run[-1][2]]
                    forms[squash(surface)][surface].append(Mention(i, start, run[-1][2], surface))
        out: list[tuple[int, Flag]] = []
        for key, by_form in forms.items():
            single = [f for f in by_form if " " not in f]
            if len(by_form) < 2 or not single or len(key) < 6:
                continue
            if any(zipf_en(f.lower()) >= 3.0 for f in single if "-" not in f):
                continue  # a common English word ("Weekend" / "Week End") is not a name that was split
            counts = Counter({f: len(ms) for f, ms in by_form.items()})
            # a tie goes against the spelling the article used later: the first one introduced the name
            latest_first = sorted(by_form, key=lambda f: min((m.sentence, m.start) for m in by_form[f]), reverse=True)
            # a form the glossary gives is right however rare in the article
            chosen = glossary_choice(ctx.glossary, by_form)
            to_flag = [f for f in by_form if f != chosen] if chosen else minority(counts, latest_first)
            usual = next(f for f in latest_first if f not in to_flag)
            for variant in to_flag:
                if is_glossary_wrong(ctx.glossary, variant):
                    continue  # a form the glossary lists as wrong: the terminology signal flags it
                out += self._flag_all(
                    by_form[variant],
                    f"'{variant}' is written '{usual}' elsewhere in this article ({counts[usual]}x): one name, two spellings.",
                    usual,
                )
        return out
