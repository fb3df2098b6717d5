"""Reading an article file: size limit, encoding (UTF-8, UTF-16 with or without a BOM), binary refusal."""
from __future__ import annotations

import re
from pathlib import Path

from ..errors import InputError

_SAMPLE = 8192
# C0 controls other than tab, newline, form feed and carriage return (and DEL): binary debris
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_LONE_CR = re.compile(r"\r(?!\n)")


def utf16_byte_order(data: bytes) -> str | None:
    """'utf-16-le' or 'utf-16-be' when the bytes look like UTF-16 text, else None.

    Text in a Latin script encoded as UTF-16 has a NUL in every other byte: the high byte of
    each code unit. So one byte position (odd for little-endian, even for big-endian) is mostly
    NUL and the other almost never is; binary data and UTF-8 text do not show that pattern.
    """
    sample = data[:_SAMPLE]
    units = len(sample) // 2
    if units < 2:
        return None
    nul_even = sample[0:units * 2:2].count(0)
    nul_odd = sample[1:units * 2:2].count(0)
    if nul_odd >= 0.5 * units and nul_even <= 0.02 * units:
        return "utf-16-le"
    if nul_even >= 0.5 * units and nul_odd <= 0.02 * units:
        return "utf-16-be"
    return None


def decode(data: bytes, name: str) -> str:
    """Decode an article's bytes: UTF-8 (BOM optional), or UTF-16 recognised by its BOM or byte pattern.

    Raises:
        InputError: binary data, undecodable bytes, or nothing but whitespace.
    """
    encoding = None
    body = data
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        # a BOM alone is not proof (a Latin-1 file may start with those bytes): the rest of the
        # bytes must show UTF-16's pattern in the order the BOM gives
        order = "utf-16-le" if data[:2] == b"\xff\xfe" else "utf-16-be"
        if utf16_byte_order(data[2:]) == order:
            encoding, body = order, data[2:]
    elif b"\x00" in data[:_SAMPLE]:
        encoding = utf16_byte_order(data)
        if encoding is None:
            raise InputError(f"{name}: binary file, expected UTF-8 text, Markdown or HTML")
    if encoding is None:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InputError(
                f"{name}: not valid UTF-8 (byte {exc.start}); convert it, e.g. `iconv -f latin1 -t utf-8`"
            ) from exc
    else:
        try:
            text = body.decode(encoding)
        except UnicodeDecodeError as exc:
            raise InputError(
                f"{name}: looks like {encoding.upper()} text but byte {exc.start} does not decode; "
                f"convert it to UTF-8, e.g. `iconv -f {encoding} -t utf-8`"
            ) from exc
        text = text.removeprefix("\ufeff")
    controls = len(_CONTROLS.findall(text[:_SAMPLE]))
    if controls > 0.01 * max(1, len(text[:_SAMPLE])):
        raise InputError(f"{name}: binary file, expected UTF-8 text, Markdown or HTML")
    if not text.strip():
        raise InputError(f"{name}: empty file, nothing to check")
    # the few stray controls let through become spaces (same length, so offsets hold): parsers
    # such as lxml refuse them outright. CRLF line ends stay as read (the corrected text gives
    # them back); a lone CR (old Mac files) becomes LF, same length.
    text = _CONTROLS.sub(" ", _LONE_CR.sub("\n", text))
    if not text.strip():
        raise InputError(f"{name}: empty file, nothing to check")
    return text


def read_text(path: Path, max_bytes: int) -> str:
    """Read an article file as text, refusing what cannot be an article.

    Raises:
        InputError: missing, a directory, too big, unreadable, binary, undecodable or empty.
    """
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.is_dir():
        raise InputError(f"{path}: is a directory (use `mtqc batch DIR` for a folder)")
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    if size > max_bytes:
        raise _too_big(path, f"{size:,} bytes is over the {max_bytes:,}-byte limit")
    # a pipe, a FIFO or a device reports no size (or a wrong one): the limit holds while reading
    try:
        with path.open("rb") as fh:
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    if len(data) > max_bytes:
        raise _too_big(path, f"more than {max_bytes:,} bytes, over the limit")
    return decode(data, str(path))


def _too_big(path: Path, what: str) -> InputError:
    return InputError(
        f"{path}: {what} for one article "
        "(raise it with MTQC_MAX_BYTES if this really is one article)"
    )
