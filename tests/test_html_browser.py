"""The HTML reports in a real browser (Debian's chromium driven by Playwright): review, export, filters,
persistence, the batch index, and hostile article text staying inert. No network, no console errors.

Without chromium (or Playwright) these tests skip locally and FAIL in CI (env CI=true), so that a
CI machine that lost its browser cannot pass silently.
"""
from __future__ import annotations

import json
from dataclasses import replace
import os
import random
import shutil
from pathlib import Path
from typing import Any, Iterator

import pytest

from mtqc.batch.archive import ArchiveBatch
from mtqc.batch.executors import InlineExecutor
from mtqc.batch.sources import FolderSource
from mtqc.config import load_settings
from mtqc.pipeline import Checker, CheckerConfig
from mtqc.reports import render_index, write_html
from mtqc.results import Flag
from mtqc.review.file import join_sentences, loads_review

from .helpers import check_text

BROWSER_PATHS = ("/usr/bin/chromium", "/usr/bin/chromium-browser")

# written for these tests: a glossary calque, a doubled word, an Indonesian time style, a slash date
ARTICLE = """Harbour repairs start next week

The port authority told the media crew on Monday that the the repairs would start next week.

Work on the northern pier will begin at 08.30 WIB, the authority said (12/5).

Fishermen said the repairs were overdue and welcomed the plan.
"""


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def _unavailable(reason: str) -> None:
    if _in_ci():
        pytest.fail(f"{reason}; CI must run the browser tests (.ci/run installs chromium)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless chromium for the whole session."""
    executable = next((p for p in BROWSER_PATHS if os.access(p, os.X_OK)), None) or shutil.which("chromium")
    if executable is None:
        _unavailable("chromium is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed (pip install -e '.[test]')")
    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield instance
        instance.close()


class Watched:
    """A page whose console errors, page errors and requests are recorded."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.errors: list[str] = []
        self.requests: list[str] = []
        page.on("console", lambda m: self.errors.append(f"console {m.type}: {m.text}") if m.type in ("error", "warning") else None)
        page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("dialog", lambda d: (self.errors.append(f"dialog: {d.message}"), d.dismiss()))

    def check_clean(self) -> None:
        assert self.errors == []
        # file:// pages themselves, and blob: URLs of the exports; nothing from the network
        assert all(u.startswith(("file://", "blob:")) for u in self.requests), self.requests


@pytest.fixture
def watched(browser: Any) -> Iterator[Watched]:
    context = browser.new_context(accept_downloads=True)
    w = Watched(context.new_page())
    w.page.set_default_timeout(5000)  # a missing element fails in seconds, not in 30
    yield w
    w.check_clean()
    context.close()


@pytest.fixture(scope="module")
def checker() -> Checker:
    return CheckerConfig(load_settings(env={}), engine="offline", calibrated=False).build()


def _report_page(checker: Checker, tmp_path: Path, text: str = ARTICLE, name: str = "harbour.txt") -> Path:
    return write_html(check_text(checker, text, name), tmp_path / "harbour.html")


def _flag_id(page: Any, span_text: str) -> str:
    """The data-flag id of the flag whose mark covers `span_text`."""
    return page.evaluate("""(text) => {
        const data = JSON.parse(document.getElementById('mtqc-data').textContent);
        for (const s of data.sentences) for (const f of s.flags)
            if (f.span && s.text.slice(f.span[0], f.span[1]) === text) return f.id;
        return null; }""", span_text)


def _go_to(page: Any, flag_id: str) -> None:
    """Press j until `flag_id` is the current flag."""
    for _ in range(50):
        if page.evaluate("document.querySelector('.flag.current')?.dataset.flag") == flag_id:
            return
        page.keyboard.press("j")
    raise AssertionError(f"flag {flag_id} never became current")


def _download(page: Any, button: str) -> tuple[str, str]:
    with page.expect_download() as info:
        page.click(button)
    return info.value.suggested_filename, Path(info.value.path()).read_text(encoding="utf-8")


def _changes(page: Any, kind: str) -> list[str]:
    """The inserted (`ins`) or deleted (`del`) runs of the first changed sentence, without their
    screen-reader hints."""
    return page.locator(".final:visible").first.locator(kind).evaluate_all(
        "els => els.map(e => Array.from(e.childNodes).filter(n => n.nodeType === 3).map(n => n.textContent).join(''))")


def _progress(page: Any) -> str:
    return page.locator("#progress").text_content()


def test_keyboard_review_end_to_end_with_exports(checker: Checker, tmp_path: Path, watched: Watched) -> None:
    page = watched.page
    page.goto(_report_page(checker, tmp_path).as_uri())
    total = page.locator(".flag").count()
    assert _progress(page) == f"0 of {total} flags decided"
    page.keyboard.press("j")
    first = page.locator(".flag.current")
    assert first.count() == 1 and first.get_attribute("aria-current") == "true"
    assert first.evaluate("el => { const r = el.getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; }")
    assert page.locator("mark.current").count() >= 1  # its text is highlighted too

    doubled, calque, time_ = _flag_id(page, "the the"), _flag_id(page, "media crew"), _flag_id(page, "08.30 WIB")
    _go_to(page, calque)
    page.keyboard.press("a")  # accept: "media crew" -> the glossary's preferred term
    _go_to(page, doubled)
    page.keyboard.press("a")  # the two accepted suggestions in one sentence both apply
    _go_to(page, time_)
    page.keyboard.press("d")
    assert _progress(page) == f"3 of {total} flags decided"
    page.keyboard.press("u")  # undo the dismissal
    assert _progress(page) == f"2 of {total} flags decided"
    _go_to(page, time_)
    page.keyboard.press("e")
    page.locator("textarea.edit").fill("Work on the northern pier will begin at 8:30 a.m. local time, the authority said.")
    page.keyboard.press("Enter")
    assert _progress(page) == f"3 of {total} flags decided"
    page.keyboard.press("n")  # the note goes to the edit just made, though the focus has moved on
    page.locator(f'input.note[data-flag="{time_}"]').fill("house style for times")
    page.keyboard.press("Enter")
    assert page.locator(f'.flag[data-flag="{calque}"] .badge').text_content() == "Accepted"

    name, text = _download(page, "#export-review")
    assert name == "harbour.review.json"
    review = loads_review(text, name)  # the exported file passes the reader's validation
    decided = {d.span_text: d for d in review.decisions if d.decision}
    assert {k: d.decision for k, d in decided.items()} == {
        "media crew": "accepted", "the the": "accepted", "08.30 WIB": "edited"}
    assert decided["the the"].final == ("The port authority told the reporters on Monday that the repairs would "
                                        "start next week.")
    assert decided["08.30 WIB"].note == "house style for times" and decided["08.30 WIB"].type == "other"

    name, corrected = _download(page, "#export-text")
    assert name == "harbour.corrected.txt"
    assert corrected == review.corrected_text()  # the browser and `mtqc review apply` agree
    assert corrected.startswith("Harbour repairs start next week\n\nThe port authority told the reporters")
    assert "8:30 a.m. local time" in corrected and "the the" not in corrected


def test_the_corrected_text_is_joined_as_mtqc_review_apply_joins_it(checker: Checker, tmp_path: Path,
                                                                       watched: Watched) -> None:
    """The browser's join and Python's agree on layouts, deletions and every kind of whitespace."""
    page = watched.page
    page.goto(_report_page(checker, tmp_path).as_uri())
    rng = random.Random(7)
    pieces = ["A.", "b c", "", " ", "\n", "\n\n", "\r\n", "\r\n\r\n", "\t", "\u00a0", "\u2028", "\ufeff", "\x1c", "\x85", "# h: x\n"]
    cases = []
    for _ in range(300):
        cases.append([
            {"final": "".join(rng.choices(pieces, k=rng.randint(0, 3))),
             "paragraph": rng.choice([None, 0, 1, 2]),
             "text_before": rng.choice([None, "".join(rng.choices(pieces, k=rng.randint(0, 3)))])}
            for _ in range(rng.randint(0, 5))])
    in_browser = page.evaluate("(cases) => cases.map(c => window.mtqcReview.joinSentences(c))", cases)
    in_python = [join_sentences([(s["final"], s["paragraph"], s["text_before"]) for s in case]) for case in cases]
    assert in_browser == in_python


def test_look_alike_flags_are_dismissed_and_undone_together(checker: Checker, tmp_path: Path,
                                                             watched: Watched) -> None:
    report = check_text(checker, ARTICLE, "harbour.txt")
    last = report.sentences[-1]
    text = last.text  # "Fishermen said the repairs were overdue and welcomed the plan."

    def at(piece: str) -> tuple[int, int]:
        return (text.index(piece), text.index(piece) + len(piece))

    picks = [Flag("fluency", "minor", at(p), f"Unusual English word sequence '{p}'.", None, "fluency")
             for p in ("Fishermen said", "repairs were", "welcomed the")]
    term = Flag("terminology", "minor", at("overdue"), "House style.", "late", "terminology")
    sentences = report.sentences[:-1] + (replace(last, flags=(picks[0], term, picks[1], picks[2])),)
    page = watched.page
    page.goto(write_html(replace(report, sentences=sentences), tmp_path / "alike.html").as_uri())
    total = page.locator(".flag").count()
    ids = [_flag_id(page, p) for p in ("Fishermen said", "repairs were", "welcomed the")]
    term_id = _flag_id(page, "overdue")
    # the button is offered on the look-alikes only (on the focused card), and says how many it dismisses
    page.locator(f'.flag[data-flag="{ids[1]}"]').focus()
    assert page.locator(f'.flag[data-flag="{ids[1]}"] button[data-act="dismiss-alike"]').text_content() == "Dismiss 3 alike (D)"
    page.locator(f'.flag[data-flag="{term_id}"]').focus()
    assert page.locator(f'.flag[data-flag="{term_id}"] button[data-act="dismiss-alike"]').count() == 0

    def badges() -> list[str | None]:
        return [page.locator(f'.flag[data-flag="{i}"] .badge').text_content()
                if page.locator(f'.flag[data-flag="{i}"] .badge').count() else None for i in ids + [term_id]]

    def focus(flag_id: str) -> None:
        page.locator(f'.flag[data-flag="{flag_id}"]').focus()

    focus(ids[1])
    page.keyboard.press("D")
    assert badges() == ["Dismissed", "Dismissed", "Dismissed", None]
    assert _progress(page) == f"3 of {total} flags decided"
    assert page.locator("#status").text_content().startswith(f"Dismissed 3 fluency flags of sentence {last.index}.")
    page.keyboard.press("u")  # one undo takes back the whole group
    assert badges() == [None, None, None, None] and _progress(page) == f"0 of {total} flags decided"
    # a flag decided before is left as it was; the group's step survives a reload
    focus(ids[2])
    page.keyboard.press("d")
    focus(ids[0])
    page.keyboard.press("D")
    assert _progress(page) == f"3 of {total} flags decided"
    page.reload()
    page.keyboard.press("u")
    assert badges() == [None, None, "Dismissed", None] and _progress(page) == f"1 of {total} flags decided"
    page.keyboard.press("u")
    assert _progress(page) == f"0 of {total} flags decided"
    # the exported review has one decision per flag, as before
    focus(ids[0])
    page.keyboard.press("D")
    name, exported = _download(page, "#export-review")
    decided = {d.span_text: d.decision for d in loads_review(exported, name).decisions if d.decision}
    assert decided == {"Fishermen said": "dismissed", "repairs were": "dismissed", "welcomed the": "dismissed"}


def test_decisions_survive_a_reload_but_never_land_on_another_text(checker: Checker, tmp_path: Path,
                                                                   watched: Watched) -> None:
    page = watched.page
    path = _report_page(checker, tmp_path)
    page.goto(path.as_uri())
    total = page.locator(".flag").count()
    _go_to(page, _flag_id(page, "the the"))
    page.keyboard.press("d")
    page.reload()
    assert _progress(page) == f"1 of {total} flags decided"
    assert page.locator(f'.flag[data-flag="{_flag_id(page, "the the")}"] .badge').text_content() == "Dismissed"
    # the undo history is saved with the decisions: after a reload, u takes back the dismissal
    page.keyboard.press("u")
    assert _progress(page) == f"0 of {total} flags decided"
    page.reload()
    assert _progress(page) == f"0 of {total} flags decided"
    page.keyboard.press("u")
    assert _progress(page) == f"0 of {total} flags decided"  # nothing left to undo
    assert page.locator("#status").text_content() == "Nothing to undo."
    _go_to(page, _flag_id(page, "the the"))
    page.keyboard.press("d")
    # the same file name with a different article text: nothing carries over
    _report_page(checker, tmp_path, ARTICLE.replace("on Monday", "on Sunday"))
    page.reload()
    assert _progress(page).startswith("0 of ")


def test_filters(checker: Checker, tmp_path: Path, watched: Watched) -> None:
    page = watched.page
    page.goto(_report_page(checker, tmp_path).as_uri())
    total = page.locator(".flag").count()
    page.select_option("#filter-type", "other")
    shown = page.locator(".flag:visible")
    assert 0 < shown.count() < total and all(t == "other" for t in shown.evaluate_all("els => els.map(e => e.dataset.type)"))
    page.keyboard.press("j")
    assert page.locator(".flag.current").get_attribute("data-type") == "other"  # j moves among shown flags only
    page.keyboard.press("d")
    page.check("#filter-undecided")
    assert page.locator(".flag:visible").count() == shown.count() and page.locator(".flag.dismissed:visible").count() == 0
    page.select_option("#filter-type", "")
    page.uncheck("#filter-undecided")
    page.select_option("#filter-signal", "mechanics")
    assert set(page.locator(".flag:visible").evaluate_all("els => els.map(e => e.dataset.signal)")) == {"mechanics"}
    page.select_option("#filter-signal", "")
    assert page.locator(".flag:visible").count() == total


def test_probability_filter_on_a_calibrated_report(tmp_path: Path, watched: Watched) -> None:
    calibrated = CheckerConfig(load_settings(env={}), engine="offline").build()
    page = watched.page
    page.goto(write_html(check_text(calibrated, ARTICLE, "harbour.txt"), tmp_path / "c.html").as_uri())
    probs = [float(p) for p in page.locator(".flag").evaluate_all("els => els.map(e => e.dataset.prob)")]
    assert probs and all(0 <= p <= 1 for p in probs)
    threshold = sorted(probs)[len(probs) // 2] if len(set(probs)) > 1 else probs[0]
    page.fill("#filter-prob", str(threshold))
    visible = [float(p) for p in page.locator(".flag:visible").evaluate_all("els => els.map(e => e.dataset.prob)")]
    assert visible and all(p >= threshold for p in visible)
    assert len(visible) == sum(1 for p in probs if p >= threshold)


def test_article_markup_and_script_stay_inert(checker: Checker, tmp_path: Path, watched: Watched) -> None:
    hostile = (
        "The minister said <script>document.title='pwned'</script> the the plan was ready "
        "<img src=x onerror=\"document.title='pwned'\"> and officials agreed on the budget.\n\n"
        "Residents said </textarea><b onmouseover=alert(1)>the</b> repairs were \u2028 quick.\n"
    )
    page = watched.page
    page.goto(write_html(check_text(checker, hostile, "<i>x</i>.txt"), tmp_path / "hostile.html").as_uri())
    assert page.title() == "mtqc: <i>x</i>.txt"
    assert page.locator("script").count() == 2  # the data block and the report's own script
    assert page.locator("img, b, main i").count() == 0
    assert "<script>document.title='pwned'</script>" in page.locator("main").inner_text()
    # an edit holding markup is shown as text and exported as text
    _go_to(page, _flag_id(page, "the the"))
    page.keyboard.press("e")
    page.locator("textarea.edit").fill("<img src=y onerror=\"document.title='edited'\">Fine.")
    page.keyboard.press("Enter")
    assert page.locator("img").count() == 0 and page.title() == "mtqc: <i>x</i>.txt"
    # the change is shown word by word; the inserted words are the edit's, as text
    shown = page.locator(".final:visible").first.evaluate("""box => Array.from(box.childNodes).map(n =>
        n.nodeType === 3 ? n.textContent : n.tagName === 'INS' ? Array.from(n.childNodes).filter(c => c.nodeType === 3)
        .map(c => c.textContent).join('') : '').join('')""")
    assert shown == "<img src=y onerror=\"document.title='edited'\">Fine."
    _, exported = _download(page, "#export-review")
    assert "<img src=y" in json.loads(exported)["sentences"][0]["final"]


def test_static_page_without_javascript(checker: Checker, tmp_path: Path, browser: Any) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(_report_page(checker, tmp_path).as_uri())
    assert page.locator(".flag").count() > 0 and page.locator(".flag:visible").count() == page.locator(".flag").count()
    assert page.locator("#toolbar").is_hidden() and page.locator(".actions:visible").count() == 0
    assert "Word doubled" in page.locator("main").inner_text()
    context.close()


# ----------------------------------------------------------------------------- the batch index

INDEX_ARTICLES = {
    "clean one.txt": "The port reopened on Monday after the storm passed and ships returned to the harbour.\n",
    "a#b%20c?.txt": "The governor told the media crew that the the port would reopen on Monday.\n",
    "ünïcode & more.txt": "The mayor thanked the media crew for waiting while the bridge was inspected.\n",
    "z-last.txt": "Officials told the media crew that the market at 10.00 WIB would open again.\n",
}


def _batch(checker: Checker, tmp_path: Path, articles: dict[str, str]) -> Any:
    folder = tmp_path / "in"
    folder.mkdir()
    for name, text in articles.items():
        (folder / name).write_text(text, encoding="utf-8")
    with ArchiveBatch(FolderSource(folder), tmp_path / "out") as batch:
        batch.prepare()
        result = batch.run(InlineExecutor(checker))
    assert not result.failures
    return result


def test_index_sorts_and_links_recurring_problems(checker: Checker, tmp_path: Path, watched: Watched) -> None:
    result = _batch(checker, tmp_path, INDEX_ARTICLES)
    folder = tmp_path / "in"  # where `_batch` put the articles
    page = watched.page
    page.goto(result.index_path.as_uri())
    scores = [float(r) for r in page.locator("#articles tbody tr").evaluate_all("rs => rs.map(r => r.dataset.score)")]
    page.click("th[data-key=score] button")  # the first click puts the lowest score on top
    assert page.locator("th[data-key=score]").get_attribute("aria-sort") == "ascending"
    assert [float(r) for r in page.locator("#articles tbody tr").evaluate_all("rs => rs.map(r => r.dataset.score)")] == \
        sorted(scores)
    page.click("th[data-key=score] button")
    assert [float(r) for r in page.locator("#articles tbody tr").evaluate_all("rs => rs.map(r => r.dataset.score)")] == \
        sorted(scores, reverse=True)
    page.click("th[data-key=name] button")
    names = page.locator("#articles tbody tr").evaluate_all("rs => rs.map(r => r.dataset.name)")
    assert names == sorted(names, key=str.lower)

    problem = page.locator("li.problem", has_text="media crew")
    assert "3 articles" in problem.locator("summary").text_content()
    problem.locator("summary").click()
    links = problem.locator("a")
    assert links.count() == 3
    first = links.first.text_content()
    links.first.click()  # a real click on an encoded link
    page.wait_for_load_state()
    assert page.title() == f"mtqc: {folder / first}" and page.locator(":target").count() == 1
    page.go_back()
    targets = page.locator("li.problem", has_text="media crew").locator("a").evaluate_all(
        "as => as.map(a => [a.href, a.textContent])")
    for href, target in targets:  # every link, whatever the file name, opens its report at the sentence
        page.goto(href)
        assert page.title() == f"mtqc: {folder / target}" and page.locator(":target").count() == 1, href
    page.goto(result.index_path.as_uri())
    svg = page.locator("svg.hist")
    assert "to 100:" in svg.locator("title").first.text_content()
    assert page.locator("table.types").inner_text().count("terminology") == 1


def test_index_pages_large_folders(tmp_path: Path, watched: Watched) -> None:
    rows = [{"name": f"article-{i:03d}.txt", "html": f"articles/article-{i:03d}.html", "score": (i * 37) % 100,
             "by_severity": {"minor": i % 3, "major": 0, "critical": 0}, "error": None} for i in range(250)]
    path = tmp_path / "index.html"
    path.write_text(render_index(rows, "big", "sig", []), encoding="utf-8")
    page = watched.page
    page.goto(path.as_uri())
    assert page.locator("#articles tbody tr:visible").count() == 100
    assert page.locator("#page-info").text_content() == "Articles 1\u2013100 of 250 (page 1 of 3)"
    page.click("#page-next")
    page.click("#page-next")
    assert page.locator("#articles tbody tr:visible").count() == 50 and page.locator("#page-next").is_disabled()


# ----------------------------------------------------------------------------- the review workspace (issue 18)

def _with_flags(report: Any, flags_by_sentence: dict[int, tuple[Flag, ...]]) -> Any:
    """`report` with its sentences' flags replaced (sentence position -> flags)."""
    sentences = tuple(replace(s, flags=flags_by_sentence.get(i, ())) for i, s in enumerate(report.sentences))
    return replace(report, sentences=sentences)


def _at(text: str, piece: str) -> tuple[int, int]:
    return (text.index(piece), text.index(piece) + len(piece))


def _current(page: Any) -> str | None:
    return page.evaluate("document.querySelector('.flag.current')?.dataset.flag ?? null")


def _workspace(checker: Checker, tmp_path: Path) -> tuple[Any, Path]:
    """The test article with hand-made flags: advice without a replacement, a replacement, and
    severities whose risk order differs from the document's."""
    report = check_text(checker, ARTICLE, "harbour.txt")
    texts = [s.text for s in report.sentences]
    first = next(i for i, t in enumerate(texts) if "media crew" in t)
    pier = next(i for i, t in enumerate(texts) if "northern pier" in t)
    last = next(i for i, t in enumerate(texts) if "Fishermen" in t)
    flags = {
        first: (Flag("untranslated", "minor", _at(texts[first], "port authority"), "An unexplained name.",
                     advice="Spell it out in English at first mention, e.g. 'English name (X)'.", signal="untranslated"),
                Flag("terminology", "major", _at(texts[first], "media crew"), "A calque.", "reporters", "terminology")),
        pier: (Flag("other", "minor", _at(texts[pier], "08.30 WIB"), "Time style.", signal="mechanics"),),
        last: (Flag("mistranslation", "critical", _at(texts[last], "overdue"), "Wrong sense.", signal="llm_mqm"),),
    }
    report = _with_flags(report, flags)
    return report, write_html(report, tmp_path / "harbour.html")


def test_accept_never_pastes_advice_and_a_never_opens_an_editor(checker: Checker, tmp_path: Path,
                                                                 watched: Watched) -> None:
    report, path = _workspace(checker, tmp_path)
    page = watched.page
    page.goto(path.as_uri())
    advice = _flag_id(page, "port authority")
    page.locator(f'.flag[data-flag="{advice}"]').focus()
    # advice is shown as advice, and the focused card offers no Accept
    assert "Advice: Spell it out" in page.locator(f'.flag[data-flag="{advice}"]').inner_text()
    assert page.locator('.flag.current button[data-act="accept"]').count() == 0
    assert page.locator('.flag.current button[data-act="dismiss"]').count() == 1
    page.keyboard.press("a")
    assert "no replacement to accept" in page.locator("#status").text_content()
    # no editor opened: the next keys navigate, nothing is typed into the sentence
    page.keyboard.type("jk")
    assert page.locator("textarea").count() == 0 and _progress(page).startswith("0 of ")
    assert page.locator(".final:visible").count() == 0
    _, corrected = _download(page, "#export-text")
    assert corrected == ARTICLE  # nothing changed, nothing pasted
    name, exported = _download(page, "#export-review")
    flag = next(f for f in json.loads(exported)["flags"] if f["span_text"] == "port authority")
    assert flag["suggestion"] is None and flag["advice"].startswith("Spell it out") and flag["decision"] is None
    assert all(s["final"] == s["text"] for s in json.loads(exported)["sentences"])
    # a real replacement is accepted with a
    _go_to(page, _flag_id(page, "media crew"))
    assert page.locator('.flag.current button[data-act="accept"]').text_content() == "Accept (a)"
    page.keyboard.press("a")
    assert _changes(page, "del") == ["media crew"] and _changes(page, "ins") == ["reporters"]


def test_an_edit_is_shown_as_inserted_and_deleted_words(checker: Checker, tmp_path: Path, watched: Watched) -> None:
    _, path = _workspace(checker, tmp_path)
    page = watched.page
    page.goto(path.as_uri())
    _go_to(page, _flag_id(page, "08.30 WIB"))
    page.keyboard.press("e")
    area = page.locator("textarea.edit")
    area.fill(area.input_value().replace("at 08.30 WIB", "at 8:30 a.m. local time"))
    page.keyboard.press("Enter")
    assert _changes(page, "del") == ["08.30 WIB"] and _changes(page, "ins") == ["8:30 a.m. local time"]


def test_j_visits_undecided_flags_in_risk_order_across_a_reload(checker: Checker, tmp_path: Path,
                                                                 watched: Watched) -> None:
    report, path = _workspace(checker, tmp_path)
    page = watched.page
    page.goto(path.as_uri())
    # the critical flag (last sentence) first, then the major, then the minors in document order
    order = [_flag_id(page, t) for t in ("overdue", "media crew", "port authority", "08.30 WIB")]
    start_here = page.locator("ol.worst a").evaluate_all("as => as.map(a => a.getAttribute('href'))")
    assert start_here[0] == "#f" + order[0].replace(".", "-")  # "Start here" and j agree
    seen = []
    for _ in order:
        page.keyboard.press("j")
        seen.append(_current(page))
    assert seen == order
    page.keyboard.press("j")  # wraps to the riskiest undecided flag
    assert _current(page) == order[0]
    page.keyboard.press("d")  # decides it and moves on to the next undecided in risk order
    assert _current(page) == order[1]
    page.reload()
    page.keyboard.press("j")  # after a reload: the riskiest undecided flag, not the top of the article
    assert _current(page) == order[1]
    page.keyboard.press("d")
    page.keyboard.press("k")  # k goes back in the same order, decided flags too
    assert _current(page) == order[1]


def test_a_note_goes_to_the_decision_just_made_or_the_focused_flag(checker: Checker, tmp_path: Path,
                                                                   watched: Watched) -> None:
    _, path = _workspace(checker, tmp_path)
    page = watched.page
    page.goto(path.as_uri())
    first, second = _flag_id(page, "overdue"), _flag_id(page, "media crew")
    page.keyboard.press("j")
    page.keyboard.press("d")
    assert _current(page) == second  # the focus moved on ...
    page.keyboard.press("n")  # ... but the note is on the dismissal just made, and says so
    note = page.locator("input.note")
    assert note.get_attribute("data-flag") == first
    assert page.locator(".note-editor label").inner_text().startswith(f"Note on flag {first.split('.')[1]} of sentence "
                                                                     f"{first.split('.')[0]} (dismissed)")
    note.fill("a correct sense here")
    page.keyboard.press("Enter")
    assert page.locator(f'.flag[data-flag="{first}"] .note-text').inner_text() == "Note: a correct sense here"
    page.keyboard.press("n")  # the note was the follow-up: now n is on the focused flag
    assert page.locator("input.note").get_attribute("data-flag") == second
    page.keyboard.press("Escape")
    _, exported = _download(page, "#export-review")
    notes = {f["id"]: f["note"] for f in json.loads(exported)["flags"]}
    assert notes[first] == "a correct sense here" and notes[second] == ""


def test_cards_are_one_line_with_actions_on_the_focused_card_only(checker: Checker, tmp_path: Path,
                                                                   watched: Watched) -> None:
    page = watched.page
    page.goto(_report_page(checker, tmp_path).as_uri())
    assert page.locator("button[data-act]").count() == 0 and page.locator("input.note").count() == 0
    page.keyboard.press("j")
    assert page.locator("button[data-act]:visible").count() == page.locator(".flag.current button[data-act]").count() > 0
    heights = page.locator(".flag:not(.current) > .line").evaluate_all(
        "els => els.map(e => e.getBoundingClientRect().height / parseFloat(getComputedStyle(e).lineHeight))")
    assert heights and max(heights) < 1.5  # one line each
    # the engineering notices are one collapsed line
    notices = page.locator("details.notices")
    assert notices.locator("summary").inner_text() == "Meaning checks off (offline engine)"
    assert notices.get_attribute("open") is None and page.locator(".notice:visible").count() == 0


def test_help_and_export_keys(checker: Checker, tmp_path: Path, watched: Watched) -> None:
    page = watched.page
    page.goto(_report_page(checker, tmp_path).as_uri())
    page.keyboard.press("?")
    assert page.locator("dialog#help").is_visible() and "export the review" in page.locator("dialog#help").inner_text()
    page.keyboard.press("Escape")
    assert page.locator("dialog#help").is_hidden()
    with page.expect_download() as info:
        page.keyboard.press("x")
    assert info.value.suggested_filename == "harbour.review.json"


def test_phone_layout_keeps_the_focused_card_in_sight(checker: Checker, tmp_path: Path, browser: Any) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    text = "\n\n".join(f"Paragraph {i}: the port authority told the media crew that the the repairs were near."
                       for i in range(12)) + "\n"
    page.goto(write_html(check_text(checker, text, "long.txt"), tmp_path / "long.html").as_uri())
    bar = page.locator("#toolbar").bounding_box()
    assert bar is not None and bar["height"] < 60  # one row
    for _ in range(8):
        page.keyboard.press("j")
        card = page.locator(".flag.current")
        line, words = card.locator(".line").bounding_box(), card.evaluate(
            "c => document.getElementById(c.getAttribute('aria-describedby')).getBoundingClientRect().toJSON()")
        assert line and line["y"] >= bar["height"] - 1 and line["y"] + 20 <= 844, line  # header below the toolbar
        assert words["top"] >= bar["height"] - 1 and words["bottom"] <= 844  # and the sentence's words too
        # the card sits under its sentence, full width, not in a narrow third column
        assert words["bottom"] <= line["y"] and line["width"] > 250
        assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling
    page.keyboard.press("e")  # the editor fits too
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    context.close()


# what to fix first: written for this test, from clean to several likely-wrong sentences
RANKED_ARTICLES = {
    "calm.txt": "Harbour reopens\n\nThe port reopened on Monday after the storm passed and ships returned.\n",
    "one.txt": ("Market news\n\nOfficials told the media crew that the pemerintah daerah would open the market "
                "again on Friday.\n\nTraders welcomed the news and said that prices had stayed the same this week.\n"),
    "many.txt": ("Budget row\n\nThe governor told the media crew that the the budget was ready.\n\n"
                 "The minister said the pemerintah daerah would meet on Monday.\n\n"
                 "Para menteri telah bertemu di kantor gubernur pada hari Senin.\n"),
}




def _rows(page: Any, attribute: str) -> list[str]:
    return page.locator("#articles tbody tr").evaluate_all(f"rs => rs.map(r => r.dataset.{attribute})")


def test_index_says_what_to_fix_first_and_keeps_review_status_and_sort(checker: Checker, tmp_path: Path,
                                                                       watched: Watched) -> None:
    result = _batch(checker, tmp_path, RANKED_ARTICLES)
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    records = summary["articles"] if isinstance(summary, dict) else summary
    wrong = {r["relative"]: r["to_fix"] for r in records}
    page = watched.page
    page.goto(result.index_path.as_uri())
    names = _rows(page, "name")
    # the most likely-wrong sentences first, the order summary.json's counts give
    assert [int(w) for w in _rows(page, "wrong")] == sorted(wrong.values(), reverse=True)
    assert names[0] == "many.txt" and wrong["many.txt"] > wrong["calm.txt"]
    first = page.locator("#articles tbody tr").first
    assert first.locator(".headline").inner_text() == "Budget row"  # the headline, not only the file name
    assert "many.txt" in first.inner_text() and first.locator("td[data-label='Top issue']").inner_text() != ""
    assert first.locator(".review-status").inner_text().startswith("undecided")
    # a numeric column's first click puts the most on top; the sort is kept in the URL
    page.click("th[data-key=check] button")
    assert page.locator("th[data-key=check]").get_attribute("aria-sort") == "descending"
    checks = [int(c) for c in _rows(page, "check")]
    assert checks == sorted(checks, reverse=True) and page.url.endswith("#sort=check-descending")
    # open the top article, decide a flag, come back: the sort is kept and the status follows
    page.locator("#articles tbody tr", has_text="many.txt").locator("a.headline").click()
    page.wait_for_load_state()
    assert page.locator("#to-index").get_attribute("href") == "../index.html"  # a way back to the index
    page.keyboard.press("j")
    page.keyboard.press("d")
    page.go_back()
    page.wait_for_load_state()
    assert page.locator("th[data-key=check]").get_attribute("aria-sort") == "descending"
    assert [int(c) for c in _rows(page, "check")] == checks
    status = page.locator("#articles tbody tr", has_text="many.txt").locator(".review-status").inner_text()
    assert status.startswith("in progress (1 of ")
    page.reload()
    assert page.locator("#articles tbody tr", has_text="many.txt").locator(".review-status").inner_text() == status
    # a recurring problem's link lands on the flag itself, which becomes the current flag
    problem = page.locator("li.problem", has_text="media crew")
    problem.locator("summary").click()
    href = problem.locator("a").first.get_attribute("href")
    assert "#f" in href
    problem.locator("a").first.click()
    page.wait_for_load_state()
    assert page.locator(".flag.current").get_attribute("id") == href.split("#")[1]
    # the histogram's bins fit the scores: its first and last bars hold the lowest and the highest
    page.goto(result.index_path.as_uri())
    counts = page.locator("svg.hist g").evaluate_all("gs => gs.map(g => g.querySelector('text').textContent)")
    assert 1 <= len(counts) <= 10 and counts[0] != "0" and counts[-1] != "0"


def test_index_and_report_fit_a_phone(checker: Checker, tmp_path: Path, browser: Any) -> None:
    result = _batch(checker, tmp_path, RANKED_ARTICLES)
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(result.index_path.as_uri())
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling
    svg = page.locator("svg.hist").bounding_box()
    assert svg is not None and svg["width"] <= 390
    context.close()


def _serious_violations(page: Any) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": [
        # "experimental" holds label-content-name-mismatch: a button's visible text must be in its name
        "wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice", "experimental"]}})
    return [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
            for v in results.response["violations"] if v["impact"] in ("serious", "critical")]


def test_no_serious_accessibility_violations(checker: Checker, tmp_path: Path, watched: Watched) -> None:
    pytest.importorskip("axe_playwright_python", reason="pip install -e '.[test]'")
    result = _batch(checker, tmp_path, RANKED_ARTICLES)
    page = watched.page
    page.goto(result.index_path.as_uri())
    assert _serious_violations(page) == []
    page.locator("#articles tbody tr").first.locator("a.headline").click()
    page.wait_for_load_state()
    assert _serious_violations(page) == []
    # with a focused card, its actions, a decision, a change shown and the note editor open
    page.keyboard.press("j")
    page.keyboard.press("d")
    page.keyboard.press("n")
    assert _serious_violations(page) == []
    page.keyboard.press("Escape")
    page.keyboard.press("e")
    page.keyboard.press("End")
    page.keyboard.type(" More.")
    page.keyboard.press("Enter")
    assert _serious_violations(page) == []
    for _ in range(10):  # an accepted replacement, its card decided and no longer current
        if page.locator('.flag.current button[data-act="accept"]').count():
            break
        page.keyboard.press("j")
    page.keyboard.press("a")
    assert page.locator(".flag.accepted").count() == 1
    assert _serious_violations(page) == []
    page.set_viewport_size({"width": 390, "height": 844})
    assert _serious_violations(page) == []
