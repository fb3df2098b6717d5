"""`mtqc signals`: which checks there are, what each needs and flags, and which engines run it."""
from __future__ import annotations

import click

from .common import handle_errors

# `--engine offline` runs no model, the language model included (pipeline.CheckerConfig.build);
# with any other engine the LM is loaded when installed
_NO_LM_ENGINES = frozenset({"offline"})


@click.command("signals")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@handle_errors
def signals(as_json: bool) -> None:
    """Each signal: what it needs, what it flags, and the engines that run it (names for --disable)."""
    import json
    from dataclasses import asdict

    from rich.console import Console
    from rich.table import Table

    from ..engines import engine_provides
    from ..signals import describe_signals

    engines = engine_provides()
    rows = describe_signals(engines, frozenset(engines) - _NO_LM_ENGINES)
    if as_json:
        click.echo(json.dumps([asdict(r) for r in rows], indent=2))
        return
    table = Table("signal", "needs", "flags", "engines", "what it checks")
    for row in rows:
        needs = [*row.requires, *(f"{o} (optional)" for o in row.optional)]
        where = ", ".join(row.engines) + (f"\n{row.condition}" if row.condition else "")
        table.add_row(row.name, "\n".join(needs) or "text only", ", ".join(row.flag_types) or "none (features only)",
                      where, row.about)
    console = Console(highlight=False)
    console.print(table)
    console.print("`--disable SIGNAL` turns a signal off.")
    for row in rows:
        if row.replaces:
            console.print(f"{row.name} runs in place of {row.replaces} {row.condition}; "
                          "turning either off turns both off.")
