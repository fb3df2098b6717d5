"""`mtqc review`: apply an editor's review file to the article."""
from __future__ import annotations

from pathlib import Path

import click
from rich.markup import escape

from .common import err_console, guard_command_outputs, handle_errors


@click.group()
def review() -> None:
    """Review files exported from the HTML report."""


@review.command("apply")
@click.argument("review_path", metavar="REVIEW.json", type=click.Path(path_type=Path))
@click.option("--out", "out_path", type=click.Path(path_type=Path), default=Path("-"), show_default=True,
              help="Where to write the corrected article ('-': standard output).")
@handle_errors
def review_apply(review_path: Path, out_path: Path) -> None:
    """Write the corrected article (plain text) from an editor's review."""
    from ..review.file import load_review
    from ..fs import is_stdout, write_atomic

    loaded = load_review(review_path)
    # the article itself, where it can be found, is an input too: never written over
    article = Path(loaded.source)
    guard_command_outputs([out_path], {"reviews": [review_path]}, [(article, "the article it corrects"), (review_path.parent / article.name, "the article it corrects")])
    text = loaded.corrected_text()
    if is_stdout(out_path):
        click.echo(text, nl=False)
        return
    write_atomic(out_path, text)
    err_console.print(f"wrote {escape(str(out_path))}", soft_wrap=True)
