"""`mtqc models`: list, download and convert the neural models."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import click
from rich.console import Console
from rich.text import Text

from .common import F, handle_errors, settings_from_options


@click.group()
def models() -> None:
    """List, download and convert the neural models."""


_models_dir_option = click.option("--models-dir", type=click.Path(path_type=Path), default=None,
                                  help="Where models live [env MTQC_MODELS_DIR; default models/].")


@models.command("list")
@_models_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@handle_errors
def models_list(models_dir: Path | None, as_json: bool) -> None:
    """Each model of the manifest: present or missing, where, size, revision."""
    import json

    from rich.table import Table

    from ..neural.manifest import model_status

    rows = model_status(settings_from_options(models_dir))
    if as_json:
        click.echo(json.dumps([r.to_dict() for r in rows], indent=2))
        return
    table = Table("model", "status", "where", "size", "revision", "licence")
    for row in rows:
        size = f"{row.size_bytes / 1e6:.0f} MB" if row.present else f"~{row.expected_mb} MB"
        where = f"{row.path} ({row.where})" if row.present else "-"
        table.add_row(row.name, "present" if row.present else Text("missing", style="red"), Text(where), size,
                      row.revision or row.manifest_revision, row.licence)
    Console().print(table)
    if not all(r.present for r in rows):
        click.echo("fetch missing models with: mtqc models pull  (on a connected machine; then copy models/ for air-gapped use)")


def _names_command(name: str, force_help: str) -> Callable[[F], click.Command]:
    """A `models` subcommand over model NAMES (all by default), with --models-dir and --force."""
    def decorate(func: F) -> click.Command:
        for option in (handle_errors, click.option("--force", is_flag=True, help=force_help), _models_dir_option,
                       click.argument("names", nargs=-1)):
            func = option(func)
        return models.command(name)(func)
    return decorate


@_names_command("pull", "Download again even if present.")
def models_pull(names: tuple[str, ...], models_dir: Path | None, force: bool) -> None:
    """Download models (all by default) into the models directory; resumable."""
    from ..neural.manifest import pull

    for resolved in pull(list(names) or None, settings_from_options(models_dir), force=force):
        click.echo(f"{resolved.spec.name}: {resolved.path} ({resolved.source}, revision {resolved.revision})")


@_names_command("convert", "Convert again even if up to date.")
def models_convert(names: tuple[str, ...], models_dir: Path | None, force: bool) -> None:
    """Convert the Marian models to CTranslate2 int8 for the faster `ct2` engine."""
    from ..engines.ct2 import convert_models

    for path in convert_models(settings_from_options(models_dir, offline=True), list(names) or None, force=force):
        click.echo(f"converted: {path}")
