"""`mtqc cache`: the persistent cache of model outputs."""
from __future__ import annotations

from pathlib import Path

import click

from .common import settings_from_options, handle_errors


@click.group()
def cache() -> None:
    """The translation cache."""


@cache.command("clear")
@handle_errors
def cache_clear() -> None:
    """Delete every cached translation and score."""
    from ..neural.cache import CACHE_FILE, clear_cache

    path = Path(settings_from_options().cache_dir) / CACHE_FILE
    removed = clear_cache(path)
    click.echo(f"cleared {path}: " + ("removed the damaged cache file" if removed is None else f"{removed} entries"))
