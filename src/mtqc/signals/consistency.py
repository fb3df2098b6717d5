"""Consistency within an article: one concept rendered one way (no glossary needed).

Machine translation renders each sentence on its own, so one person, place or concept often
comes out several ways in one article. Each mechanism below finds a family of renderings of one
thing, and flags the minority rendering(s), pointing to the others:

* name variants: a proper name spelled two ways ("Hendarto"/"Hendartto", "Yuli"/"Yulie"), or
  written as one word and as two ("Tirtamulya"/"Tirta Mulya");
* place-name order: "Jakarta Barat" beside "West Jakarta", or local places named in English
  order ("North Cibubur") in an article that keeps the Indonesian order elsewhere;
* glossary concepts named by both their Indonesian and their English form ("Polri" and "National
  Police");
* one currency written two ways ("Rp" and "IDR");
* noun phrases for one entity with near-synonymous heads ("Malaysian workers" / "the labourers of
  Malaysia"), by MiniLM similarity, or, with a back-translation engine, because the phrases
  back-translate to the same Indonesian;
* a person referred to as both "he" and "she".
"""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Iterable, Mapping, Sequence

from ..glossary.concepts import _term_pattern
from ..ingest.lexicon import zipf_en, zipf_id
from ..results import Flag
from .base import ArticleContext, PhraseRequest, Signal, SignalOutput


@dataclass(frozen=True)
class Mention:
    """One occurrence of a rendering, located by sentence index and span within that sentence."""

    sentence: int
    start: int
    end: int
    text: str


_NAME_TOKEN = re.compile(r"\b[A-Z][a-z]+(?:-[a-z]+)?\b")
# a capitalised word, also CamelCase or hyphenated ("Tirtamulya", "TirtaMulya", "Tirta-Mulya")
_CAP_WORD = re.compile(r"\b[A-Z][a-z]+(?:-?[A-Z]?[a-z]+)*\b")
_COMPASS_EN = {"North": "Utara", "South": "Selatan", "East": "Timur", "West": "Barat", "Central": "Pusat"}
_COMPASS_ID = {"Utara": "North", "Selatan": "South", "Timur": "East", "Barat": "West", "Pusat": "Central", "Tengah": "Central"}
_EN_ORDER = re.compile(r"\b(North|South|East|West|Central)\s+([A-Z][a-z]+)\b")
_ID_ORDER = re.compile(r"\b([A-Z][a-z]+)\s+(Utara|Selatan|Timur|Barat|Pusat|Tengah)\b")
# currency notations that name the same currency
_CURRENCIES = {
    "rupiah": {"Rp": re.compile(r"\bRp(?=\.?\s?\d)"), "IDR": re.compile(r"\bIDR(?=\s?\d)")},
    "US dollar": {"US$": re.compile(r"\bUS\$(?=\s?\d)"), "USD": re.compile(r"\bUSD(?=\s?\d)")},
}
_PRONOUNS = {"he": "m", "him": "m", "his": "m", "she": "f", "her": "f", "hers": "f"}
_PRONOUN_RE = re.compile(r"\b(he|him|his|she|her|hers)\b", re.IGNORECASE)
# words that make a capitalised run an organisation or place rather than a person
_NOT_PERSON = frozenset(
    "ministry minister agency party council office bank university police army court house street road "
    "village district city province regency island river government commission board company group "
    "national regional central north south east west jakarta indonesia".split()
)
_HEAD_STOPWORDS = frozenset(
    "a an the one some any all part most many several each both this that these those who which what "
    "and or of in on at to for by with from as is are was were be been has have had will would can could "
    "said says".split()
)


def _squash(name: str) -> str:
    """A name's letters alone, lowercased: "Tirta Mulya", "Tirta-Mulya" and "TirtaMulya" agree."""
    return re.sub(r"[\s-]", "", name).lower()


def _one_char_variant(a: str, b: str) -> bool:
    """Same name but for one inserted/deleted letter, or for spacing/hyphenation."""
    if a == b or a[:1].lower() != b[:1].lower():
        return False
    if _squash(a) == _squash(b):
        return True
    if abs(len(a) - len(b)) != 1 or min(len(a), len(b)) < 4:
        return False
    short, long_ = sorted((a, b), key=len)
    if long_ == short + "n" and short.endswith("a"):
        return False  # a place and its demonym ("Papua", "Papuan"), not one name spelled two ways
    ops = [op for op in SequenceMatcher(None, a, b).get_opcodes() if op[0] != "equal"]
    return len(ops) == 1 and ops[0][0] in ("insert", "delete") and max(ops[0][2] - ops[0][1], ops[0][4] - ops[0][3]) == 1


def _minority(counts: Counter[str], rarer_first: Sequence[str]) -> list[str]:
    """Renderings to flag: all but the most frequent; a tie keeps the one listed last in `rarer_first`."""
    if len(counts) < 2:
        return []
    order = {k: i for i, k in enumerate(rarer_first)}
    ranked = sorted(counts, key=lambda k: (-counts[k], -order.get(k, len(order))))
    return ranked[1:]


class ConsistencySignal(Signal):
    name = "consistency"
    THRESHOLDS = {
        "phrase_similarity": 0.60,  # MiniLM similarity of two entity phrases...
        "head_similarity": 0.40,  # ...and of their head nouns alone, to call them one concept
        "min_repeats": 2.0,  # each embedding-matched rendering must recur: a single mention is often a different thing
    }

    def _compute(self, ctx: ArticleContext) -> list[SignalOutput]:
        texts = [s.text for s in ctx.sentences]
        flags: list[list[Flag]] = [[] for _ in texts]
        # per-mechanism counts are features for a learned combiner: mechanisms differ in precision
        counts: list[Counter[str]] = [Counter() for _ in texts]
        mechanisms = {"names": self._name_variants, "split_names": self._split_names, "places": self._place_order,
                      "glossary_forms": self._glossary_forms, "currencies": self._currencies,
                      "entities": self._entity_phrases, "pronouns": self._pronouns}
        for key, mechanism in mechanisms.items():
            for index, flag in mechanism(ctx, texts):
                flags[index].append(flag)
                counts[index][key] += 1
        return [SignalOutput({"consistency.count": float(len(f)),
                              **{f"consistency.{key}": float(c[key]) for key in mechanisms}}, tuple(f))
                for f, c in zip(flags, counts)]

    def _mentions(self, texts: list[str], pattern: re.Pattern[str], group: int = 0) -> list[tuple[Mention, re.Match[str]]]:
        return [(Mention(i, m.start(group), m.end(group), m.group(group)), m) for i, t in enumerate(texts)
                for m in pattern.finditer(t)]

    def _flag_all(self, mentions: Iterable[Mention], message: str, suggestion: str | None,
                  severity: str = "minor") -> list[tuple[int, Flag]]:
        return [(m.sentence, self.flag("consistency", severity, (m.start, m.end), message, suggestion)) for m in mentions]

    # -- proper names spelled two ways ------------------------------------------------------------

    def _name_variants(self, ctx: ArticleContext, texts: list[str]) -> list[tuple[int, Flag]]:
        mentions: dict[str, list[Mention]] = defaultdict(list)
        for mention, _ in self._mentions(texts, _NAME_TOKEN):
            if zipf_en(mention.text.lower()) < 3.0:  # common words are not names, capitalised or not
                mentions[mention.text].append(mention)
        names = sorted(mentions)
        out: list[tuple[int, Flag]] = []
        done: set[str] = set()
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                if not _one_char_variant(a, b):
                    continue
                counts = Counter({a: len(mentions[a]), b: len(mentions[b])})
                # a tie goes against the spelling that is rarer in both languages: likely the typo
                rarer = sorted((a, b), key=lambda w: zipf_id(w.lower()) + zipf_en(w.lower()))
                for variant in _minority(counts, rarer):
                    if variant in done:
                        continue
                    done.add(variant)
                    other = b if variant == a else a
                    out += self._flag_all(
                        mentions[variant],
                        f"'{variant}' is spelled '{other}' elsewhere in this article ({counts[other]}x): one name, two spellings.",
                        other,
                    )
        return out

    # -- one name written as one word and as two ------------------------------------------------

    def _split_names(self, ctx: ArticleContext, texts: list[str]) -> list[tuple[int, Flag]]:
        """"Tirtamulya" beside "Tirta Mulya" (or "TirtaMulya", "Tirta-Mulya"): one name, two spellings.

        Indonesian names are often compounds that writers join or split at will, and MT copies
        whichever its source sentence had. Forms are grouped by their letters alone, so two names
        that merely share a word ("Tirta Mulya", "Tirta Jaya") never meet.
        """
        forms: dict[str, dict[str, list[Mention]]] = defaultdict(lambda: defaultdict(list))
        for i, text in enumerate(texts):
            tokens = [(m.group(0), m.start(), m.end()) for m in _CAP_WORD.finditer(text)]
            for k, (word, start, end) in enumerate(tokens):
                forms[_squash(word)][word].append(Mention(i, start, end, word))
                # the same name split into two or three capitalised words, one space apart
                for n in (2, 3):
                    run = tokens[k:k + n]
                    if len(run) < n or any(text[a[2]:b[1]] != " " for a, b in zip(run, run[1:])):
                        break
                    surface = text[start:run[-1][2]]
                    forms[_squash(surface)][surface].append(Mention(i, start, run[-1][2], surface))
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
            to_flag = _minority(counts, latest_first)
            usual = next(f for f in latest_first if f not in to_flag)
            for variant in to_flag:
                out += self._flag_all(
                    by_form[variant],
                    f"'{variant}' is written '{usual}' elsewhere in this article ({counts[usual]}x): one name, two spellings.",
                    usual,
                )
        return out

    # -- place names: Indonesian vs English order ---------------------------------------------

    def _place_order(self, ctx: ArticleContext, texts: list[str]) -> list[tuple[int, Flag]]:
        english = [(m, (mm.group(2), _COMPASS_EN[mm.group(1)])) for m, mm in self._mentions(texts, _EN_ORDER)]
        indonesian = [(m, (mm.group(1), mm.group(2))) for m, mm in self._mentions(texts, _ID_ORDER)]
        out: list[tuple[int, Flag]] = []

        def known(place: str) -> bool:  # a place English readers know by name ("Jakarta", "Java")
            return zipf_en(place.lower()) >= 3.0

        def english_name(place: str, direction: str) -> str:
            return f"{_COMPASS_ID[direction]} {place}"

        for group_known in (True, False):
            en = [(m, p) for m, p in english if known(p[0]) == group_known]
            idn = [(m, p) for m, p in indonesian if known(p[0]) == group_known]
            if not en or not idn:
                continue
            # known places take the English order, local ones keep the Indonesian: flag the other convention,
            # unless it is the article's clear majority
            expected_en = group_known
            wrong, right = (idn, en) if expected_en else (en, idn)
            if len(wrong) > 2 * len(right):
                wrong, right = right, wrong
                expected_en = not expected_en
            examples = ", ".join(sorted({m.text for m, _ in right})[:3])
            for mention, (place, direction) in wrong:
                suggestion = english_name(place, direction) if expected_en else f"{place} {direction}"
                order = "English" if expected_en else "Indonesian"
                out.append((mention.sentence, self.flag(
                    "consistency", "minor", (mention.start, mention.end),
                    f"'{mention.text}' mixes place-name conventions: this article writes {examples} in {order} order.",
                    suggestion,
                )))
        return out

    # -- glossary concepts named both ways -----------------------------------------------------

    def _glossary_forms(self, ctx: ArticleContext, texts: list[str]) -> list[tuple[int, Flag]]:
        found_source: dict[int, tuple] = {}
        for i, text in enumerate(texts):
            for match in ctx.glossary.find(text):
                if match.kind == "source":
                    found_source.setdefault(id(match.concept), (match.concept, []))[1].append(
                        Mention(i, match.start, match.end, text[match.start:match.end]))
        out: list[tuple[int, Flag]] = []
        for concept, source_mentions in found_source.values():
            english: list[Mention] = []
            for term in (concept.preferred, *concept.accepted):
                pattern = _term_pattern(term)
                flags = 0 if term.isupper() else re.IGNORECASE
                for i, text in enumerate(texts):
                    english += [Mention(i, m.start(), m.end(), m.group(0)) for m in re.finditer(pattern, text, flags)]
            english = _drop_overlaps(english)

            def defining(m: Mention) -> bool:  # "English name (ACR)" or "ACR (English name)" introduces a form
                text = texts[m.sentence]
                return text[m.end:m.end + 2].startswith(" (") or text[max(0, m.start - 1):m.start] == "("

            src = [m for m in source_mentions if not defining(m)]
            eng = [m for m in english if not defining(m)]
            if not src or not eng:
                continue
            # an Indonesian form the article introduced itself may be used; flag it only when the
            # English form clearly took over (3x), else when it is the minority
            introduced = len(src) < len(source_mentions)
            if len(eng) < (3 * len(src) if introduced else len(src) + 1):
                continue
            usual = Counter(m.text for m in eng).most_common(1)[0][0]
            out += self._flag_all(
                src, f"This article mostly calls {concept.preferred} '{usual}'; the Indonesian form is the odd one out.", usual
            )
        return out

    # -- currencies ----------------------------------------------------------------------------

    def _currencies(self, ctx: ArticleContext, texts: list[str]) -> list[tuple[int, Flag]]:
        out: list[tuple[int, Flag]] = []
        for currency, notations in _CURRENCIES.items():
            by_form = {form: [m for m, _ in self._mentions(texts, pattern)] for form, pattern in notations.items()}
            counts = Counter({form: len(ms) for form, ms in by_form.items() if ms})
            for form in _minority(counts, list(notations)[::-1]):
                majority = counts.most_common(1)[0][0]
                out += self._flag_all(by_form[form], f"The {currency} is written '{majority}' elsewhere in this article.", majority)
        return out

    # -- noun phrases for one entity -----------------------------------------------------------

    def _entity_families(self, texts: Sequence[str], can_translate: bool) -> dict[str, dict[str, list[Mention]]]:
        families = {e: by_head for e, by_head in _entity_variants(list(texts)).items() if len(by_head) >= 2}
        if not can_translate:
            # embeddings only compare renderings that each recur: ask for none when none do
            min_repeats = self.thresholds["min_repeats"]
            families = {e: b for e, b in families.items() if sum(len(m) >= min_repeats for m in b.values()) >= 2}
        return families

    def phrase_requests(self, texts: Sequence[str], *, can_translate: bool) -> PhraseRequest:
        """Entity phrases to back-translate (engine permitting) and, with their heads, to embed."""
        families = self._entity_families(texts, can_translate)
        phrases = tuple(sorted({by_head[h][0].text for by_head in families.values() for h in by_head}))
        heads = tuple(sorted({h for by_head in families.values() for h in by_head}))
        if not phrases:
            return PhraseRequest()
        return PhraseRequest(translate=phrases if can_translate else (), embed=phrases + heads)

    def _entity_phrases(self, ctx: ArticleContext, texts: list[str]) -> list[tuple[int, Flag]]:
        families = self._entity_families(texts, ctx.engine.can_translate)
        # the pipeline computed the phrases' outputs (see `phrase_requests`); missing ones count as absent
        translated = ctx.phrase_backtranslations or {}
        back = {p: re.sub(r"\W+", " ", t).strip().lower() for p, t in translated.items()}
        vectors: Mapping[str, Sequence[float]] = ctx.phrase_embeddings or {}
        out: list[tuple[int, Flag]] = []
        for by_head in families.values():
            for group in self._same_concept_groups(sorted(by_head), by_head, back, vectors):
                counts = Counter({h: len(by_head[h]) for h in group})
                wrong_hint = self._glossary_hint(ctx, [m for h in group for m in by_head[h]])
                if wrong_hint:  # the glossary knows this concept: every rendering but the preferred one is off
                    to_flag, suggestion = list(group), wrong_hint
                else:
                    to_flag, suggestion = self._against_calques(group, by_head, counts)
                for head in to_flag:
                    others = "', '".join(sorted({by_head[h][0].text for h in group if h != head}))
                    for m in by_head[head]:
                        if self._glossary_hint(ctx, [m]):
                            continue  # a known wrong rendering: the terminology signal flags it
                        out += self._flag_all(
                            [m], f"'{m.text}' and '{others}' look like one concept rendered differently in this article.",
                            suggestion,
                        )
        return out

    @staticmethod
    def _against_calques(group: list[str], by_head: dict[str, list[Mention]],
                         counts: Counter[str]) -> tuple[list[str], str]:
        """Renderings to flag and the suggestion, for one concept the glossary does not know.

        Indonesian puts the modifier after its head ("pengungsi Suriah"), and MT often keeps that
        order as "the refugees of Syria" or "Syria's refugees"; English names a group of people
        with the modifier first ("Syrian refugees"). So where some renderings are premodified and
        others are of-/possessive forms, the latter are flagged whatever their count, and the
        commonest premodified rendering is suggested. Otherwise the minority is flagged.
        """
        natural = [h for h in group if not any(_is_calque_order(m.text) for m in by_head[h])]
        calqued = [h for h in group if h not in natural]
        if natural and calqued:
            best = max(natural, key=lambda h: (counts[h], -natural.index(h)))
            return calqued, by_head[best][0].text
        return (_minority(counts, sorted(group, key=lambda h: counts[h])),
                by_head[counts.most_common(1)[0][0]][0].text)

    def _same_concept_groups(self, heads: list[str], by_head: dict[str, list[Mention]], back: dict[str, str],
                             vectors: Mapping[str, Sequence[float]]) -> list[list[str]]:
        if back:
            # the strongest evidence: the phrases go back to one Indonesian term
            groups: dict[str, list[str]] = defaultdict(list)
            for head in heads:
                translation = back.get(by_head[head][0].text)
                if translation:
                    groups[translation].append(head)
            found = [g for g in groups.values() if len(g) > 1]
            if found:
                return found
        repeated = [h for h in heads if len(by_head[h]) >= self.thresholds["min_repeats"]
                    and h in vectors and by_head[h][0].text in vectors]
        if len(repeated) < 2 or not vectors:
            return []

        def sim(a: str, b: str) -> float:
            return sum(x * y for x, y in zip(vectors[a], vectors[b]))

        parent = {h: h for h in repeated}

        def root(h: str) -> str:
            while parent[h] != h:
                h = parent[h]
            return h

        for i, a in enumerate(repeated):
            for b in repeated[i + 1:]:
                if (sim(by_head[a][0].text, by_head[b][0].text) >= self.thresholds["phrase_similarity"]
                        and sim(a, b) >= self.thresholds["head_similarity"]):
                    parent[root(b)] = root(a)
        clusters: dict[str, list[str]] = defaultdict(list)
        for head in repeated:
            clusters[root(head)].append(head)
        return [c for c in clusters.values() if len(c) > 1]

    @staticmethod
    def _glossary_hint(ctx: ArticleContext, mentions: list[Mention]) -> str | None:
        for m in mentions:
            for match in ctx.glossary.find(m.text):
                if match.kind == "wrong":
                    return match.concept.preferred
        return None

    # -- he and she for one person -------------------------------------------------------------

    def _pronouns(self, ctx: ArticleContext, texts: list[str]) -> list[tuple[int, Flag]]:
        people: dict[str, list[tuple[str, Mention]]] = {}
        last_person: str | None = None
        for i, text in enumerate(texts):
            events = [(start, "person", name, end) for start, end, name in _person_mentions(text, people)]
            events += [(m.start(), "pronoun", m.group(0), m.end()) for m in _PRONOUN_RE.finditer(text)]
            for start, kind, value, end in sorted(events):
                if kind == "person":
                    last_person = value
                elif last_person:
                    people[last_person].append((_PRONOUNS[value.lower()], Mention(i, start, end, value)))
        out: list[tuple[int, Flag]] = []
        for person, pronouns in people.items():
            counts = Counter(g for g, _ in pronouns)
            if len(counts) < 2:
                continue
            minority = "f" if counts["f"] < counts["m"] else "m"
            out += self._flag_all(
                [m for g, m in pronouns if g == minority],
                f"{person} is referred to as both 'he' and 'she' in this article; check the person's gender.",
                None, "major",
            )
        return out


_TITLES = frozenset(
    "mr mrs ms dr prof minister governor president vice head chief director general secretary mayor regent "
    "finance foreign home defence defense coordinating deputy acting ambassador chairman chairwoman "
    "speaker professor analyst commander admiral colonel lieutenant sergeant captain inspector police "
    "according meanwhile however".split()
)


def _person_mentions(text: str, people: dict[str, list]) -> Iterable[tuple[int, int, str]]:
    """(start, end, person) for each person named in `text`; titles are stripped, and later short
    mentions ("Wahyuningsih") map to the full name first seen ("Sri Wahyuningsih")."""
    for m in re.finditer(r"\b[A-Z][a-z]+(?:[ -][A-Z][a-z]+)*\b", text):
        words = re.split(r"[ -]", m.group(0))
        while words and words[0].lower() in _TITLES:
            words = words[1:]
        if not words or any(w.lower() in _NOT_PERSON for w in words):
            continue
        known = next((p for p in people if set(words) & set(p.split())), None)
        if known:
            yield m.start(), m.end(), known
        elif len(words) >= 2 and any(zipf_en(w.lower()) < 3.0 for w in words):
            name = " ".join(words)
            people[name] = []
            yield m.start(), m.end(), name


def _drop_overlaps(mentions: list[Mention]) -> list[Mention]:
    kept: list[Mention] = []
    for m in sorted(mentions, key=lambda m: (m.sentence, m.start, -(m.end - m.start))):
        if kept and kept[-1].sentence == m.sentence and m.start < kept[-1].end:
            continue
        kept.append(m)
    return kept


_CALQUE_ORDER = re.compile(r"^(?:the\s+)?[a-z]+\s+of\s|['\u2019]s\s", re.IGNORECASE)


def _is_calque_order(phrase: str) -> bool:
    """'the escape of Ruritania', "Ruritania's escape": head before modifier, as in Indonesian."""
    return bool(_CALQUE_ORDER.search(phrase))


def _demonym_base(word: str) -> str:
    """'Korean' -> 'Korea', 'Indonesian' -> 'Indonesia': demonyms that add -n to a name in -a."""
    return word[:-1] if word.endswith("an") and len(word) > 4 else word


def _entity_variants(texts: list[str]) -> dict[str, dict[str, list[Mention]]]:
    """Phrases that name a kind of thing by a named entity: 'X-n heads', "X's head", 'the head of X'."""
    entity = r"((?:[A-Z][a-z]+\s)?[A-Z][a-z]+)"
    patterns = [
        (re.compile(entity + r"n\s+([a-z]+)"), 1, 2),  # Malaysian migrants
        (re.compile(entity + r"['\u2019]s\s+([a-z]+)"), 1, 2),  # Malaysia's migration
        (re.compile(r"\b(?:[Tt]he\s+)?([a-z]+)\s+of\s+" + entity + r"\b"), 2, 1),  # the migration of Malaysia
    ]
    found: dict[str, dict[str, list[Mention]]] = defaultdict(lambda: defaultdict(list))
    for i, text in enumerate(texts):
        for pattern, entity_group, head_group in patterns:
            for m in pattern.finditer(text):
                head = m.group(head_group)
                if head in _HEAD_STOPWORDS or len(head) < 4 or zipf_en(head) < 2.5:
                    continue
                name = _demonym_base(m.group(entity_group).strip())
                lemma = head[:-1] if head.endswith("s") and not head.endswith("ss") else head
                found[name][lemma].append(Mention(i, m.start(), m.end(), m.group(0)))
    return found
