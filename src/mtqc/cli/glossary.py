"""`mtqc glossary`: validate glossaries, and learn one from review files."""
from __future__ import annotations

from pathlib import Path

import click
from rich.markup import escape

from ..errors import UsageError
from .common import EXIT_BAD_INPUT, err_console, guard_command_outputs, handle_errors


@click.group()
def glossary() -> None:
    """Glossaries: validate them before use."""


@glossary.command("check")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@handle_errors
def glossary_check(paths: tuple[Path, ...]) -> None:
    """List every problem in each glossary with its line number; exit 2 if there are any."""
    from ..glossary import inspect_glossary_file

    bad = False
    for path in paths:
        result = inspect_glossary_file(path)  # one pass: the same reader, and lines, as loading
        for line, message in result.problems:
            click.echo(f"{path}:{line}: {message}")
        if result.problems:
            bad = True
            continue
        click.echo(f"{path}: ok, {len(result.concepts)} concepts")
    if bad:
        raise click.exceptions.Exit(EXIT_BAD_INPUT)


@glossary.command("learn")
@click.argument("reviews", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--out", "out_path", type=click.Path(path_type=Path), required=True,
              help="Glossary file to write, in the format its suffix names: .glossary/.txt (stanzas), .csv or .tsv.")
@handle_errors
def glossary_learn(reviews: tuple[Path, ...], out_path: Path) -> None:
    """Turn accepted and edited terminology decisions in review files into glossary entries."""
    from ..review.file import load_review
    from ..fs import write_atomic
    from ..glossary.learn import learn_glossary
    from ..glossary.formats import WRITABLE_SUFFIXES

    guard_command_outputs([out_path], {"reviews": reviews})
    # the suffix picks the reader when the glossary is loaded, so it picks the writer too
    if out_path.suffix.lower() not in WRITABLE_SUFFIXES:
        raise UsageError(f"{out_path}: a learned glossary is written as {', '.join(WRITABLE_SUFFIXES)} "
                         "(the suffix names the format); choose one of these")
    loaded = [load_review(p) for p in reviews]
    result = learn_glossary(loaded)
    write_atomic(out_path, result.to_glossary((str(p) for p in reviews), out_path.suffix))
    for conflict in result.conflicts:
        err_console.print(f"[yellow]conflict (left out):[/] {escape(conflict)}", soft_wrap=True)
    for skipped in result.skipped:
        err_console.print(f"[yellow]skipped:[/] {escape(skipped)}", soft_wrap=True)
    n = len(result.concepts)
    click.echo(f"wrote {out_path}: {n} concept{'s' if n != 1 else ''}"
               + (f"; {len(result.conflicts)} conflicting decision(s) listed, not guessed" if result.conflicts else ""))
