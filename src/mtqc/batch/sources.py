"""Batch inputs at archive scale: a folder (or a whole tree) and JSON Lines files, read one article at a time."""
from __future__ import annotations

import hashlib
import json
import os
import stat
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO, Iterable, Iterator
from urllib.parse import quote

from ..errors import InputError
from ..ingest import SUPPORTED_SUFFIXES

JSONL_SUFFIXES = (".jsonl", ".ndjson")
# JSONL fields that are the article itself; every other field is metadata for its report
JSONL_ID, JSONL_TEXT = "id", "text"
# a report name is one path component; longer ids are cut and made unique again with a hash
_MAX_NAME = 180


@dataclass(frozen=True)
class Skipped:
    """A file in the folder that was not checked, and why."""

    path: Path
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"path": str(self.path), "reason": self.reason}

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


@dataclass(frozen=True)
class Unit:
    """One article of a batch input, not yet read (a file) or already read (a JSONL line)."""

    key: str  # unique within the batch: the relative path, `id:<id>`, or `line:<n>` for a bad JSONL line
    sort: str  # where the article comes in summary.json: the relative path, or the JSONL line number
    path: str  # the "path" the summary shows: the file, or `<file.jsonl>#<id>` / `<file.jsonl>:<line>`
    relative: PurePosixPath | None  # names the reports (mirrored under OUTDIR/articles); None: no report
    file: Path | None = None  # an article file, read by the checker
    text: str | None = None  # a JSONL article's text
    metadata: tuple[tuple[str, str], ...] = ()  # a JSONL article's other fields
    line: int | None = None  # the JSONL line number
    raw: bytes | None = None  # the JSONL line as read: its hash is the article's content hash
    jsonl_id: str | None = None
    error: str | None = None  # the article cannot be checked (malformed line, empty text): recorded as such

    def content_sha256(self) -> str | None:
        """The SHA-256 of the article as stored (file bytes or JSONL line); None when unreadable."""
        if self.raw is not None:
            return hashlib.sha256(self.raw).hexdigest()
        if self.file is None:
            return None
        digest = hashlib.sha256()
        try:
            with open(self.file, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(block)
        except OSError:
            return None  # the checker records why it cannot be read
        return digest.hexdigest()


_KINDS = {stat.S_IFCHR: "a character device", stat.S_IFBLK: "a block device", stat.S_IFIFO: "a named pipe",
          stat.S_IFSOCK: "a socket"}
_REPORT_MARKERS = (b'<meta name="generator" content="mtqc"',)
# reports of versions before the generator tag: their title, under the CSP that allows no script
_LEGACY_TITLES = (b"<title>mtqc: ", b"<title>mtqc batch: ")
_LEGACY_CSP = b"default-src 'none'; style-src 'unsafe-inline'"


def is_mtqc_report(path: Path) -> bool:
    """True when `path` is an HTML report mtqc wrote (so that a batch never checks its own output)."""
    if not path.name.lower().endswith((".html", ".htm")):
        return False
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError:
        return False  # the checker reports why it cannot be read
    return any(m in head for m in _REPORT_MARKERS) or (
        _LEGACY_CSP in head and any(t in head for t in _LEGACY_TITLES))


def _inside(path: str, root: str) -> bool:
    return os.path.commonpath([path, root]) == root


def _classify(entry: os.DirEntry[str], path: Path, root: str, directory: Path) -> Path | Skipped | None:
    """An article file, a file passed over (with why), or None for what is ignored silently."""
    if not entry.name.lower().endswith(SUPPORTED_SUFFIXES):
        return None
    if entry.is_symlink():
        target = os.path.realpath(path)
        if not os.path.exists(target):
            return Skipped(path, "a broken symbolic link")
        if not _inside(target, root):
            return Skipped(path, f"a symbolic link to {target}, outside {directory}; "
                                 "mtqc does not follow links out of the folder")
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        return Skipped(path, f"cannot be read: {exc.strerror or exc}")
    if stat.S_ISDIR(mode):
        return None  # a folder named like an article: walked as a folder (recursive) or not at all
    if not stat.S_ISREG(mode):
        return Skipped(path, f"{_KINDS.get(stat.S_IFMT(mode), 'not a regular file')}, not a regular file")
    if is_mtqc_report(path):
        return Skipped(path, "an mtqc report (written by an earlier run), not an article")
    return path


def _subfolder(entry: os.DirEntry[str], path: Path, pruned: set[str], stack: list[tuple[Path, PurePosixPath]],
               rel: PurePosixPath) -> Skipped | None:
    """Put a subfolder on `stack` to be walked, unless it is hidden, pruned, or a link (said as skipped)."""
    if entry.name.startswith("."):
        return None
    if entry.is_symlink():
        return Skipped(path, "a symbolic link to a folder; mtqc does not follow folder links")
    if os.path.realpath(path) not in pruned:
        stack.append((path, rel / entry.name))
    return None


@dataclass(frozen=True)
class FolderSource:
    """The articles of a folder, or (`recursive`) of the whole tree below it, streamed.

    Subfolders whose name starts with a dot (`.git`, `.snapshots`) and folders given in `prune`
    (the batch's own output inside DIR) are not entered; links to folders are not followed.
    """

    directory: Path
    recursive: bool = False

    def check(self) -> None:
        """Raises InputError when the folder is not a directory."""
        if not self.directory.is_dir():
            raise InputError(f"{self.directory}: not a directory; give a folder of articles or a .jsonl file")

    def walk(self, prune: Iterable[str] = ()) -> Iterator[tuple[Path, PurePosixPath] | Skipped]:
        """Each article (its path, and its path inside the folder), or a file passed over.

        Streams in directory order (the batch sorts its summary itself), so a folder of a million
        articles is never one list in memory.
        """
        self.check()
        root = os.path.realpath(self.directory)
        pruned = set(prune)
        stack: list[tuple[Path, PurePosixPath]] = [(self.directory, PurePosixPath())]
        while stack:
            folder, rel = stack.pop()
            yield from self._folder(folder, rel, root, pruned, stack)

    def _folder(self, folder: Path, rel: PurePosixPath, root: str, pruned: set[str],
                stack: list[tuple[Path, PurePosixPath]]) -> Iterator[tuple[Path, PurePosixPath] | Skipped]:
        """One folder's articles and passed-over files; its subfolders to walk go on `stack`."""
        try:
            listing = os.scandir(folder)
        except OSError as exc:
            yield Skipped(folder, f"folder cannot be read: {exc.strerror or exc}")
            return
        with listing as entries:
            for entry in entries:
                path = folder / entry.name
                if self.recursive and entry.is_dir(follow_symlinks=True):
                    found: Path | Skipped | None = _subfolder(entry, path, pruned, stack, rel)
                else:
                    found = _classify(entry, path, root, self.directory)
                if isinstance(found, Skipped):
                    yield found
                elif found is not None:
                    yield found, rel / entry.name

    def has_articles(self, sub: str, prune: Iterable[str] = ()) -> bool:
        """True when the subfolder `sub` holds at least one article (anywhere below it, when recursive)."""
        folder = self.directory / sub
        if not folder.is_dir() or folder.is_symlink():
            return False
        inner = FolderSource(folder, self.recursive)
        return any(not isinstance(found, Skipped) for found in inner.walk(prune))

    def top_folders(self) -> list[str]:
        """The names of the subfolders a recursive walk enters (for naming the reports folder)."""
        if not self.recursive:
            return []
        names = []
        with os.scandir(self.directory) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False) and not entry.name.startswith("."):
                    names.append(entry.name)
        return names


def id_report_name(article_id: str, *, case_suffix: bool = False) -> PurePosixPath:
    """The relative path that names a JSONL article's reports: one file name, one-to-one with the id.

    The id is percent-encoded (so `a/b`, `..` and `%` cannot escape or collide); a very long id is
    cut and ends in `%~` and a hash, which percent-encoding never produces. `.txt` is added so
    that the reports are `<id>.json`/`<id>.html` (see `report_base`).

    With `case_suffix` (the id's name folds to the same lower case as another id's, `A` and `a`)
    the name ends in `%~` and a shorter hash of the id, so that the two stay distinct on a file
    system that ignores case (see `id_name_folded`).
    """
    name = quote(article_id, safe="")
    if name.startswith("."):
        name = "%2E" + name[1:]  # no hidden file, no `.`/`..`
    digest = hashlib.sha256(article_id.encode("utf-8")).hexdigest()
    if case_suffix:  # 16 hex digits, not 20: never the same as a long id's name
        return PurePosixPath(name[:_MAX_NAME] + "%~" + digest[:16] + ".txt")
    if len(name) > _MAX_NAME:
        name = name[:_MAX_NAME] + "%~" + digest[:20]
    return PurePosixPath(name + ".txt")


def id_name_folded(name: PurePosixPath) -> str:
    """A JSONL report name as a case-insensitive file system compares it (names are ASCII: percent-encoded)."""
    return str(name).lower()


def _lines(fh: BinaryIO, limit: int) -> Iterator[tuple[int, bytes | None]]:
    """(line number, bytes without the line end), or None for a line longer than `limit` (not kept)."""
    number = 0
    while True:
        line = fh.readline(limit + 2)
        if not line:
            return
        number += 1
        if not line.endswith(b"\n") and len(line) > limit:
            while line and not line.endswith(b"\n"):  # skip the rest without holding it
                line = fh.readline(1 << 20)
            yield number, None
            continue
        yield number, line.rstrip(b"\r\n")


def _metadata_value(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


@dataclass(frozen=True)
class JsonlSource:
    """Articles in a JSON Lines file: one `{"id": ..., "text": ..., other fields}` object a line.

    A line that is not such an object, or whose text is empty, becomes a unit with an error (the
    batch records it and goes on); blank lines are ignored. Duplicate ids are found by the batch.
    """

    path: Path
    max_bytes: int

    def check(self) -> None:
        """Raises InputError when the file cannot be opened."""
        if self.path.is_dir():
            raise InputError(f"{self.path}: is a folder, not a JSON Lines file")
        try:
            with open(self.path, "rb"):
                pass
        except OSError as exc:
            raise InputError(f"{self.path}: cannot be read: {exc.strerror or exc}") from None

    def units(self) -> Iterator[Unit]:
        self.check()
        with open(self.path, "rb") as fh:
            for number, raw in _lines(fh, self.max_bytes):
                if number == 1 and raw is not None and raw.startswith(b"\xef\xbb\xbf"):
                    raw = raw[3:]  # a byte-order mark written by some exporters
                if raw is not None and not raw.strip():
                    continue
                yield self._unit(number, raw)

    def _bad(self, number: int, why: str) -> Unit:
        where = f"{self.path}:{number}"
        return Unit(f"line:{number}", f"{number:012d}", where, None, line=number,
                    error=f"{where}: {why}")

    def _parse(self, number: int, raw: bytes | None) -> dict[str, Any] | Unit:
        """A line's JSON object, or a unit with why it is not one."""
        if raw is None:
            return self._bad(number, f"line longer than {self.max_bytes} bytes (MTQC_MAX_BYTES); not read")
        try:
            record = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            return self._bad(number, f"not UTF-8 ({exc.reason} at byte {exc.start}); expected one JSON object a line")
        except json.JSONDecodeError as exc:
            return self._bad(number, f"not JSON ({exc.msg}, column {exc.colno}); expected one JSON object a line")
        if not isinstance(record, dict):
            return self._bad(number, f"a JSON {type(record).__name__}, expected an object with \"id\" and \"text\"")
        return record

    def _unit(self, number: int, raw: bytes | None) -> Unit:
        record = self._parse(number, raw)
        if isinstance(record, Unit):
            return record
        article_id = _article_id(record.get(JSONL_ID))
        if article_id is None:
            return self._bad(number, 'no "id" (a non-empty string or a whole number); every article needs one')
        text = record.get(JSONL_TEXT)
        where = f"{self.path}#{article_id}"
        base = Unit(f"id:{article_id}", f"{number:012d}", where, id_report_name(article_id), line=number,
                    raw=raw, jsonl_id=article_id)
        if not isinstance(text, str):
            return replace(base, error=f'{where} (line {number}): "text" is '
                                       f'{"missing" if text is None else "not a string"}; expected the article text')
        if not text.strip():
            return replace(base, error=f"{where} (line {number}): the text is empty")
        metadata = tuple((str(k), _metadata_value(v)) for k, v in record.items() if k not in (JSONL_ID, JSONL_TEXT))
        return replace(base, text=text, metadata=metadata)


def _article_id(value: object) -> str | None:
    """A JSONL id as text: a non-empty string, or a whole number; None for anything else."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        return None
    return value


def is_jsonl(path: Path) -> bool:
    """True when a batch input names a JSON Lines file rather than a folder."""
    return path.name.lower().endswith(JSONL_SUFFIXES) and not path.is_dir()
