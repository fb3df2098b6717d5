"""Report file names: derived from each article's relative path, unique, never an input, inside OUTDIR."""
from __future__ import annotations

import os
import re
from pathlib import Path, PurePosixPath, PurePath
from typing import Iterable, Sequence

from ..fs import check_writable_dir, clean_stale_temps, is_stdout
from ..errors import UsageError
from ..ingest import SUPPORTED_SUFFIXES

ARTICLES_DIR = "articles"  # batch: article reports go below OUTDIR/articles/, batch files stay at the top
SUMMARY_NAME = "summary.json"
JOURNAL_NAME = "summary.jsonl"  # one line per article, appended as each is done; compacted at the end
INDEX_NAME = "index.html"
BATCH_FILES = (INDEX_NAME, SUMMARY_NAME, JOURNAL_NAME)  # OUTDIR's own files


def _has_article_suffix(name: str) -> bool:
    return name.lower().endswith(SUPPORTED_SUFFIXES)


def report_base(name: str) -> str:
    """The report file name, without `.json`/`.html`, for an article file name.

    `x.txt` gives `x` (so the report of `x.txt` is `x.json`, as tools expect); any other article
    keeps its whole name (`x.md` gives `x.md.json`, `x.html` gives `x.html.html`), so that `x.txt`,
    `x.md` and `x.html` in one folder keep apart. The mapping is one-to-one: a stripped name never
    ends in an article suffix, a kept one always does, and a name without one gets `.txt` added.
    """
    if name.endswith(".txt") and len(name) > 4 and not _has_article_suffix(name[:-4]):
        return name[:-4]
    if _has_article_suffix(name):
        return name
    return name + ".txt"


_REPORT_LIKE_DIR = re.compile(r"\.(?:json|html)_*$", re.IGNORECASE)


def report_dir_name(name: str) -> str:
    """A folder's name in the mirrored tree: a folder named like a report (`a.json`) gets `_` added.

    Report files end in `.json`/`.html` and mirrored folders then never do, so a folder can never
    be in the way of a report file (`a.txt` beside a folder `a.json/`). One-to-one as well.
    """
    return name + "_" if _REPORT_LIKE_DIR.search(name) else name


def _clean_relative(relative: PurePath) -> PurePosixPath:
    parts = [p for p in relative.parts if p not in ("", ".")]
    if relative.is_absolute() or not parts or ".." in parts:
        raise ValueError(f"{relative}: expected a path relative to the article folder, without '..'")
    return PurePosixPath(*parts)


def report_relpaths(relative: PurePath, under: str = "") -> tuple[PurePosixPath, PurePosixPath]:
    """The JSON and HTML report paths, relative to the output folder, for an article's relative path."""
    rel = _clean_relative(relative)
    base = report_base(rel.name)
    folder = PurePosixPath(*([under] if under else []), *(report_dir_name(d) for d in rel.parts[:-1]))
    return folder / f"{base}.json", folder / f"{base}.html"


def _identity(path: Path) -> tuple[str, tuple[int, int] | None]:
    """A path's real location, and its (device, inode) when it exists, for comparing files."""
    real = os.path.realpath(path)
    try:
        st = os.stat(real)
    except OSError:
        return real, None
    return real, (st.st_dev, st.st_ino)


def guard_outputs(outputs: Iterable[Path], inputs: Iterable[Path | tuple[Path, str]]) -> None:
    """Refuse before any work when an output would replace an input or another output.

    Links are followed (a write through a link replaces what it names) and files are compared by
    device and inode, so a second name for an input is caught too. An input may come with what it
    is ("the calibration"), which the refusal names.

    Raises:
        UsageError: an output is an input, or two outputs are one file.
    """
    real_inputs: dict[str, tuple[Path, str]] = {}
    inode_inputs: dict[tuple[int, int], tuple[Path, str]] = {}
    for item in inputs:
        path, what = item if isinstance(item, tuple) else (item, "one of the inputs")
        real, inode = _identity(path)
        real_inputs.setdefault(real, (path, what))
        if inode is not None:
            inode_inputs.setdefault(inode, (path, what))
    seen: dict[str, Path] = {}
    for out in outputs:
        if is_stdout(out):
            continue
        real, inode = _identity(out)
        source = real_inputs.get(real) or (inode_inputs.get(inode) if inode is not None else None)
        if source is not None:
            # one message for every command: a report, a calibration, a glossary or a corrected article
            raise UsageError(f"the output {out} would replace {source[0]}, {source[1]}; mtqc never writes over "
                             "its input: choose another output path")
        if real in seen:
            raise UsageError(f"two reports would be written to {out} ({seen[real]} and {out}); "
                             "name different paths")
        seen[real] = out


def plan_check_paths(
    files: Sequence[Path],
    out_dir: Path,
    json_path: Path | None = None,
    html_path: Path | None = None,
    other_inputs: Sequence[Path | tuple[Path, str]] = (),
) -> list[tuple[Path, Path, Path]]:
    """(article, JSON report, HTML report) for `mtqc check FILE...`, refused before any work if unsafe.

    One article: `--json`/`--html` when given, else `OUT/<name>.json`/`.html`. Several: their
    paths relative to the folder they share are mirrored under OUT, so `a/x.txt` and `b/x.txt`
    keep separate reports. A file named twice (`a.txt ./a.txt`) is checked once.

    Raises:
        UsageError: `--json`/`--html` with several files, both streamed to '-', or a report that
            would replace an input (an article, glossary, calibration or review) or another report.
    """
    if len(files) > 1 and (json_path or html_path):
        raise UsageError("--json/--html name one report; with several FILES use --out DIR")
    if json_path is not None and html_path is not None and is_stdout(json_path) and is_stdout(html_path):
        raise UsageError("only one of --json and --html can be '-' (standard output)")
    files = unique_paths(files)
    absolute = [Path(os.path.abspath(f)) for f in files]
    common = Path(os.path.commonpath([p.parent for p in absolute])) if absolute else Path(".")
    plan = []
    for path, absolute_path in zip(files, absolute):
        rel_json, rel_html = report_relpaths(absolute_path.relative_to(common))
        plan.append((path, json_path or out_dir / rel_json, html_path or out_dir / rel_html))
    guard_outputs([p for _, *pair in plan for p in pair], [*((f, "an article it checks") for f in files), *other_inputs])
    return plan


def unique_paths(paths: Sequence[Path]) -> list[Path]:
    """`paths` without repeats of one file (`a.txt`, `./a.txt`), in order: each is checked once."""
    seen: dict[str, Path] = {}
    for path in paths:
        seen.setdefault(os.path.realpath(path), path)
    return list(seen.values())


def prepare_report_dirs(paths: Iterable[Path]) -> None:
    """Before checking: fail early on an unwritable report folder; remove temps a killed run left.

    Raises:
        ReportError: a folder (or the ancestor that would hold it) cannot be written.
    """
    for folder in sorted({p.parent for p in paths if not is_stdout(p)}):
        check_writable_dir(folder)
        clean_stale_temps(folder)
