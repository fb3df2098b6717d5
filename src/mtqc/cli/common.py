"""What every command shares: exit codes, one-line errors, the check options, building a checker."""
from __future__ import annotations

import functools
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, TypeVar

import click
from rich.console import Console
from rich.text import Text

from ..config import Settings, load_settings, parse_price
from ..engines import ENGINE_NAMES
from ..errors import MtqcError, UsageError
from ..signals.registry import DISABLE_NAMES

if TYPE_CHECKING:
    from ..pipeline import CheckerConfig
    from ..pipeline import Checker

EXIT_UNDER_THRESHOLD, EXIT_BAD_INPUT, EXIT_INTERNAL = 1, 2, 3


F = TypeVar("F", bound=Callable[..., Any])


err_console = Console(stderr=True, highlight=False)


def labelled(label: str, message: object, style: str = "bold red") -> Text:
    """A styled label and a message printed as is: messages carry file names and article text."""
    return Text.assemble((label, style), " ", str(message))


def fail(message: str, code: int) -> "click.exceptions.Exit":
    err_console.print(labelled("mtqc: error:", message), soft_wrap=True)
    return click.exceptions.Exit(code)


def handle_errors(func: F) -> F:
    """Typed errors become one line on stderr and exit 2; anything else is a bug (exit 3)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ctx = click.get_current_context()
        try:
            return func(*args, **kwargs)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except MtqcError as exc:
            raise fail(str(exc), EXIT_BAD_INPUT) from None
        except KeyboardInterrupt:
            raise fail("interrupted", 130) from None
        except Exception as exc:  # a bug: say so in one line unless --debug
            if ctx.find_root().params.get("debug"):
                raise
            raise fail(f"internal error: {type(exc).__name__}: {exc} (rerun with --debug for a traceback)", EXIT_INTERNAL) from None

    return wrapper  # type: ignore[return-value]


def check_options(func: F) -> F:
    options = [
        click.option("--glossary", "glossaries", multiple=True, type=click.Path(path_type=Path),
                     help="Extra glossary (own format, .csv, .tsv, .tbx); repeatable."),
        click.option("--no-builtin-glossary", is_flag=True, help="Do not use the shipped news glossary."),
        click.option("--engine", type=click.Choice(ENGINE_NAMES), default="auto", show_default=True,
                     help="Back-translation engine; auto picks the best one available."),
        click.option("--models-dir", type=click.Path(path_type=Path), default=None,
                     help="Where models live [env MTQC_MODELS_DIR; default models/]."),
        click.option("--offline", is_flag=True, default=None, help="Never try to download models."),
        click.option("--no-cache", is_flag=True, help="Do not read or write the translation cache."),
        click.option("--device", default=None, metavar="auto|cpu|cuda|cuda:N",
                     help="Device for neural engines [env MTQC_DEVICE; default auto]."),
        click.option("--threads", type=click.IntRange(1), default=None, help="CPU threads for neural engines."),
        click.option("--beams", type=click.IntRange(1, 16), default=None,
                     help="Beam size for back-translation [env MTQC_BEAMS; default 1, greedy]."),
        click.option("--llm-url", default=None,
                     help="OpenAI-compatible API base for --engine llm [env MTQC_LLM_URL]; the key comes from "
                          "MTQC_LLM_API_KEY only."),
        click.option("--llm-model", default=None, help="Model for --engine llm [env MTQC_LLM_MODEL]."),
        click.option("--llm-price", default=None, metavar="IN,OUT",
                     help="US dollars per million prompt,completion tokens: the report shows the cost."),
        click.option("--llm-timeout", type=click.FloatRange(min=0, min_open=True), default=None,
                     help="Seconds per LLM request [env MTQC_LLM_TIMEOUT; default 60]."),
        click.option("--llm-concurrency", type=click.IntRange(1, 64), default=None,
                     help="LLM requests in flight at once [env MTQC_LLM_CONCURRENCY; default 4]."),
        click.option("--llm-budget", type=click.FloatRange(min=0, min_open=True), default=None,
                     help="Seconds all of one article's LLM requests may take [env MTQC_LLM_BUDGET; default 600]."),
        click.option("--disable", "disabled", multiple=True, type=click.Choice(DISABLE_NAMES),
                     help="Turn a signal off; repeatable."),
        click.option("--calibration", "calibration", type=click.Path(path_type=Path), default=None,
                     help="Calibration file from `mtqc calibrate` [default: the shipped one, fitted on annotated news]."),
        click.option("--no-calibration", is_flag=True,
                     help="Report the signals' own flags, uncalibrated, with a flag-count score."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def settings_from_options(models_dir: Path | None = None, offline: bool | None = None, no_cache: bool = False,
              device: str | None = None, threads: int | None = None, beams: int | None = None) -> Settings:
    return load_settings(models_dir=models_dir, offline=offline or None, use_cache=False if no_cache else None,
                         device=device, threads=threads, beams=beams)


fail_under_option = click.option("--fail-under", type=click.FloatRange(0, 100), default=None,
                                 help="Exit 1 when an article scores below this.")

review_option = click.option(
    "--review", "reviews", multiple=True, type=click.Path(path_type=Path),
    help="Review file exported from an HTML report (<stem>.review.json); the flags dismissed in it are not "
         "raised again on the same sentence. Repeatable.")


def option_inputs(opts: dict[str, Any]) -> list[tuple[Path, str]]:
    """Every file the check options make mtqc read, with what it is: glossaries, the calibration, reviews."""
    calibration = opts.get("calibration")
    return [*((p, "a glossary it reads") for p in opts.get("glossaries") or ()),
            *([(calibration, "the calibration it reads")] if calibration else []),
            *((p, "a review file it reads") for p in opts.get("reviews") or ())]


def guard_command_outputs(outputs: Iterable[Path], opts: dict[str, Any],
                          inputs: Iterable[Path | tuple[Path, str]] = ()) -> None:
    """Refuse, before any work, an output that is one of the command's inputs (see `guard_outputs`).

    One place for every command: the files its options name (`option_inputs`) and those it reads
    besides (articles, annotations and their articles), compared by real path and inode.

    Raises:
        UsageError: an output would replace an input, or two outputs are one file.
    """
    from ..reports.naming import guard_outputs

    guard_outputs(outputs, [*inputs, *option_inputs(opts)])


def gold_inputs(golds: Iterable[Any]) -> list[tuple[Path, str]]:
    """The files annotated articles are read from: each `*.gold.json` and the article beside it."""
    return [(p, "one of the annotated inputs") for g in golds for p in (g.gold_path, g.article_path)]


def make_checker(opts: dict[str, Any]) -> "Checker":
    # build() reads glossaries, calibration and reviews before any model loads: bad ones fail first
    return checker_config(opts).build()


def checker_config(opts: dict[str, Any]) -> "CheckerConfig":
    """The picklable recipe each batch worker builds its own checker from."""
    from ..pipeline import CheckerConfig

    if opts.get("calibration") and opts.get("no_calibration"):
        raise UsageError("--calibration and --no-calibration contradict each other; give one")
    settings = settings_from_options(opts["models_dir"], opts["offline"], opts["no_cache"], opts["device"], opts["threads"], opts["beams"])
    llm = {k: opts.get(f"llm_{k}") for k in ("url", "model", "price", "timeout", "concurrency", "budget")}
    if opts["engine"] != "llm" and any(v is not None for v in llm.values()):
        raise UsageError("--llm-* options need --engine llm (the LLM is never used unless asked for)")
    llm["price"] = parse_price(llm["price"]) if llm["price"] is not None else None
    settings = replace(settings, llm=settings.llm.with_overrides(**llm))
    return CheckerConfig(settings, opts["engine"], tuple(opts["glossaries"]), not opts["no_builtin_glossary"],
                          tuple(opts["disabled"]), opts.get("calibration"), not opts.get("no_calibration"),
                          tuple(opts.get("reviews") or ()))
