"""The `mtqc` command group; each command lives in a module of its own."""
from __future__ import annotations

import click

from .. import __version__
from .batch import batch
from .cache import cache
from .check import check
from .evaluate import calibrate, eval_command
from .glossary import glossary
from .models import models
from .review import review
from .signals import signals


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mtqc")
@click.option("--debug", is_flag=True, help="Show tracebacks for internal errors.")
def main(debug: bool) -> None:
    """mtqc: find likely mistranslations in machine-translated English news."""


for command in (check, batch, eval_command, calibrate, models, glossary, review, cache, signals):
    main.add_command(command)
