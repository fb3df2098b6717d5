"""Command line: a thin layer over the library that turns typed errors into exit codes."""
from __future__ import annotations

import functools
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, TypeVar

import click
from rich.console import Console
from rich.markup import escape
from rich.text import Text

from .. import __version__
from ..calibration.model import DEFAULT_MAJOR_PRECISION, DEFAULT_MAX_FALSE_FLAG_RATE
from ..config import Settings, load_settings, parse_price
from ..engines import ENGINE_NAMES
from ..errors import InputError, MtqcError, UsageError
from ..signals import SIGNALS

if TYPE_CHECKING:
    from ..batch.executors import CheckerOptions
    from ..pipeline import Checker

EXIT_OK, EXIT_UNDER_THRESHOLD, EXIT_BAD_INPUT, EXIT_INTERNAL = 0, 1, 2, 3
F = TypeVar("F", bound=Callable[..., Any])

err_console = Console(stderr=True, highlight=False)


def _labelled(label: str, message: object, style: str = "bold red") -> Text:
    """A styled label and a message printed as is: messages carry file names and article text."""
    return Text.assemble((label, style), " ", str(message))


def _fail(message: str, code: int) -> "click.exceptions.Exit":
    err_console.print(_labelled("mtqc: error:", message), soft_wrap=True)
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
            raise _fail(str(exc), EXIT_BAD_INPUT) from None
        except KeyboardInterrupt:
            raise _fail("interrupted", 130) from None
        except Exception as exc:  # a bug: say so in one line unless --debug
            if ctx.find_root().params.get("debug"):
                raise
            raise _fail(f"internal error: {type(exc).__name__}: {exc} (rerun with --debug for a traceback)", EXIT_INTERNAL) from None

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mtqc")
@click.option("--debug", is_flag=True, help="Show tracebacks for internal errors.")
def main(debug: bool) -> None:
    """mtqc: find likely mistranslations in machine-translated English news."""


def _common_check_options(func: F) -> F:
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
        click.option("--fail-under", type=click.FloatRange(0, 100), default=None,
                     help="Exit 1 when an article scores below this."),
        click.option("--disable", "disabled", multiple=True, type=click.Choice(sorted(SIGNALS)),
                     help="Turn a signal off; repeatable."),
        click.option("--calibration", "calibration", type=click.Path(path_type=Path), default=None,
                     help="Calibration file from `mtqc calibrate` [default: the shipped one, fitted on annotated news]."),
        click.option("--no-calibration", is_flag=True,
                     help="Report the signals' own flags, uncalibrated, with a flag-count score."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _settings(models_dir: Path | None = None, offline: bool | None = None, no_cache: bool = False,
              device: str | None = None, threads: int | None = None, beams: int | None = None) -> Settings:
    return load_settings(models_dir=models_dir, offline=offline or None, use_cache=False if no_cache else None,
                         device=device, threads=threads, beams=beams)


_review_option = click.option(
    "--review", "reviews", multiple=True, type=click.Path(path_type=Path),
    help="Review file exported from an HTML report (<stem>.review.json); the flags dismissed in it are not "
         "raised again on the same sentence. Repeatable.")


def _make_checker(opts: dict[str, Any]) -> "Checker":
    options = _checker_options(opts)
    for path in options.reviews:  # bad review files fail before any model loads
        _load_review(path)
    return options.build()


def _load_review(path: Path) -> Any:
    from ..review.file import load_review

    return load_review(path)


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "json_path", type=click.Path(path_type=Path), help="JSON report path (one FILE only).")
@click.option("--html", "html_path", type=click.Path(path_type=Path), help="HTML report path (one FILE only).")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("reports"), show_default=True,
              help="Folder for reports named after each article.")
@click.option("--quiet", "-q", is_flag=True, help="No terminal summary.")
@_common_check_options
@_review_option
@handle_errors
def check(files: tuple[Path, ...], json_path: Path | None, html_path: Path | None, out_dir: Path, quiet: bool,
          fail_under: float | None, **opts: Any) -> None:
    """Check one or more articles; write JSON and HTML reports and print a summary."""
    from ..fs import is_stdout
    from ..reports import write_reports
    from ..reports.naming import plan_check_paths, prepare_report_dirs
    from ..reports.terminal import print_summary

    plan = plan_check_paths(files, out_dir, json_path, html_path,
                            other_inputs=[*opts["glossaries"], *opts.get("reviews", ())])
    outputs = [p for _, *pair in plan for p in pair]
    prepare_report_dirs(outputs)
    checker = _make_checker(opts)
    streaming = any(is_stdout(p) for p in outputs)
    console = err_console if streaming else Console()  # stdout carries the report itself
    failed = under = False
    for path, json_out, html_out in plan:
        try:
            report = checker.check_file(path)
            written = write_reports(report, json_out, html_out)
        except MtqcError as exc:
            err_console.print(f"[bold red]mtqc: error:[/] {escape(str(exc))}", soft_wrap=True)
            failed = True
            continue
        if not quiet:
            print_summary(report, console)
            if report.suppressed:
                n = len(report.suppressed)
                console.print(f"  {n} flag{'s' if n != 1 else ''} dismissed in a review not raised again")
            console.print("  reports: " + ", ".join(escape(str(p)) for p in (written.json_path, written.html_path)
                                                    if not is_stdout(p)))
        if fail_under is not None and report.score < fail_under:
            under = True
            err_console.print(f"mtqc: {escape(str(path))}: score {report.score:.1f} is under --fail-under {fail_under:g}")
    if failed:
        raise click.exceptions.Exit(EXIT_BAD_INPUT)
    if under:
        raise click.exceptions.Exit(EXIT_UNDER_THRESHOLD)


def _checker_options(opts: dict[str, Any]) -> "CheckerOptions":
    """The picklable recipe each batch worker builds its own checker from."""
    from ..batch.executors import CheckerOptions

    if opts.get("calibration") and opts.get("no_calibration"):
        raise UsageError("--calibration and --no-calibration contradict each other; give one")
    settings = _settings(opts["models_dir"], opts["offline"], opts["no_cache"], opts["device"], opts["threads"], opts["beams"])
    llm = {k: opts.get(f"llm_{k}") for k in ("url", "model", "price", "timeout", "concurrency", "budget")}
    if opts["engine"] != "llm" and any(v is not None for v in llm.values()):
        raise UsageError("--llm-* options need --engine llm (the LLM is never used unless asked for)")
    llm["price"] = parse_price(llm["price"]) if llm["price"] is not None else None
    settings = replace(settings, llm=settings.llm.with_overrides(**llm))
    return CheckerOptions(settings, opts["engine"], tuple(opts["glossaries"]), not opts["no_builtin_glossary"],
                          tuple(opts["disabled"]), opts.get("calibration"), not opts.get("no_calibration"),
                          tuple(opts.get("reviews") or ()))


@main.command()
@click.argument("directory", metavar="INPUT", type=click.Path(path_type=Path))
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("reports"), show_default=True,
              help="Folder for the reports, summary.json, summary.jsonl and index.html.")
@click.option("--recursive", "-r", is_flag=True, help="Check the whole tree below INPUT, mirrored under OUTDIR.")
@click.option("--jobs", "-j", type=click.IntRange(1), default=None,
              help="Worker processes (local; default 1) or Ray actors (default: one per cluster CPU).")
@click.option("--force", is_flag=True, help="Check every article again, even those unchanged since the last run.")
@click.option("--executor", type=click.Choice(["local", "ray"]), default="local", show_default=True,
              help="Where to check: this machine, or a Ray cluster (pip install -e '.[ray]').")
@click.option("--ray-address", default=None, help="Ray cluster to join (e.g. ray://head:10001); default: start a local one.")
@_common_check_options
@_review_option
@handle_errors
def batch(directory: Path, out_dir: Path, recursive: bool, jobs: int | None, force: bool, executor: str,
          ray_address: str | None, fail_under: float | None, **opts: Any) -> None:
    """Check every *.txt, *.md and *.html article in a folder (INPUT), or every line of a .jsonl file.

    Articles unchanged since the last run into OUTDIR are not checked again (--force does); a batch
    that was stopped picks up where it was.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from ..batch.archive import ArchiveBatch, ProgressLog
    from ..batch.executors import make_executor
    from ..batch.sources import FolderSource, JsonlSource, is_jsonl

    debug = bool(click.get_current_context().find_root().params.get("debug"))
    options = _checker_options(opts)
    if is_jsonl(directory):
        if recursive:
            raise UsageError("--recursive walks a folder; INPUT is a JSON Lines file")
        source: Any = JsonlSource(directory, options.settings.max_bytes)
    else:
        source = FolderSource(directory, recursive)
    # built before the plan so that a missing Ray or a bad --ray-address fails before any work
    ex = make_executor(options, executor=executor, jobs=jobs, ray_address=ray_address)
    with ArchiveBatch(source, out_dir, force=force, other_inputs=(*options.glossaries, *options.reviews)) as plan:
        for skipped in plan.skipped():
            err_console.print(f"[yellow]skipped:[/] {escape(str(skipped))}", soft_wrap=True)
        if not plan.total:
            what = "no *.txt, *.md or *.html articles found" if isinstance(source, FolderSource) else "no JSON lines"
            raise InputError(f"{directory}: {what}"
                             + (f" ({plan.skipped_count} skipped, see above)" if plan.skipped_count else ""))
        plan.prepare()  # an unwritable OUTDIR fails now, not after every article is checked
        try:
            info = ex.start()
            for note in info.notes:
                err_console.print(f"[cyan]note:[/] {escape(note)}", soft_wrap=True)
            terminal = err_console.is_terminal
            log = ProgressLog(lambda line: err_console.print(escape(line), soft_wrap=True, highlight=False))
            with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                          TextColumn("{task.fields[rate]}"), TimeRemainingColumn(),
                          console=err_console, transient=True, disable=not terminal) as progress:
                task = progress.add_task("checking", total=plan.total, rate="")

                def on_progress(p: Any) -> None:
                    if terminal:
                        progress.update(task, completed=p.done, rate=f"{p.rate:.1f}/s",
                                        description=f"checking ({p.failed} failed)" if p.failed else "checking")
                    else:
                        log(p)

                result = plan.run(ex, info=info, debug=debug, on_progress=on_progress)
        finally:
            ex.close()
    skipped_note = f", {result.skipped} skipped" if result.skipped else ""
    unchanged = f"; {result.unchanged} unchanged since the last run, not checked again" if result.unchanged else ""
    click.echo(f"checked {result.checked} of {result.total} articles{skipped_note}; reports in {out_dir} "
               f"(index: {result.index_path.name}, summary: {result.summary_path.name}){unchanged}")
    for item in result.failures:
        err_console.print(f"[bold red]failed:[/] {escape(item.error or '')}", soft_wrap=True)
        if item.traceback:
            err_console.print(item.traceback, markup=False, highlight=False, soft_wrap=True)
    if result.failed > len(result.failures):
        err_console.print(f"... and {result.failed - len(result.failures)} more failures, listed in {result.summary_path}")
    for error in result.errors:
        err_console.print(f"[bold red]mtqc: error:[/] {escape(error)}", soft_wrap=True)
    if result.failed:
        err_console.print(f"mtqc: {result.failed} of {result.total} articles could not be checked")
    if result.internal_failed:
        if not debug:
            err_console.print("mtqc: an internal error is a bug; rerun with mtqc --debug batch ... for the traceback")
        raise click.exceptions.Exit(EXIT_INTERNAL)
    if result.failed or result.errors:
        raise click.exceptions.Exit(EXIT_BAD_INPUT)
    if fail_under is not None and result.lowest_score is not None and result.lowest_score < fail_under:
        raise click.exceptions.Exit(EXIT_UNDER_THRESHOLD)


def _check_gold(checker: "Checker", golds: list[Any], label: str) -> list[Any]:
    """Check every annotated article, with a progress bar on a terminal."""
    from rich.progress import Progress

    reports = []
    with Progress(console=err_console, transient=True, disable=not err_console.is_terminal) as progress:
        task = progress.add_task(label, total=len(golds))
        for gold in golds:
            reports.append(checker.check_file(gold.article_path))
            progress.advance(task)
    return reports


@main.command("eval")
@click.argument("gold_dirs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--folds", type=click.IntRange(2, 50), default=None,
              help="Cross-validate the calibration grouped by article, K folds (fits on the other folds).")
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as JSON.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed for fitting (with --folds) and for the bootstrap.")
@click.option("--bootstrap", "resamples", type=click.IntRange(0, 100_000), default=1000, show_default=True,
              help="95%% confidence intervals from N resamples of the articles (0: none).")
@click.option("--reports", "reports_dir", type=click.Path(path_type=Path), default=None,
              help="Also write each article's JSON report here (the held-out ones with --folds).")
@_common_check_options
@handle_errors
def eval_command(gold_dirs: tuple[Path, ...], folds: int | None, as_json: bool, seed: int, resamples: int,
                 reports_dir: Path | None, fail_under: float | None, **opts: Any) -> None:
    """Measure mtqc on annotated articles (folders of *.gold.json beside the articles)."""
    import json

    from ..calibration.evaluate import bootstrap, evaluate, load_gold_dirs
    from ..reports import write_json

    golds = load_gold_dirs(list(gold_dirs))
    if folds is not None:
        from ..calibration.fit import cross_validate

        if opts.get("calibration") or opts.get("no_calibration"):
            raise UsageError("--folds fits its own calibrations; drop --calibration/--no-calibration")
        checker = _make_checker({**opts, "no_calibration": True})
        raw = _check_gold(checker, golds, "checking")
        result, major, reports = cross_validate(golds, raw, folds=folds, seed=seed)
        how = f"{folds}-fold cross-validation grouped by article (each article scored by a calibration fitted without it)"
    else:
        checker = _make_checker(opts)
        reports = _check_gold(checker, golds, "checking")
        pairs = list(zip(golds, reports))
        result, major = evaluate(pairs, "minor"), evaluate(pairs, "major")
        cal = checker.calibration
        how = f"calibration {cal.label}" if cal else "uncalibrated signal flags"
    if reports_dir is not None:
        for gold, report in zip(golds, reports):
            write_json(report, reports_dir / f"{Path(gold.name).stem}.json")
    payload: dict[str, Any] = {"evaluated_with": how, "engine": checker.engine_choice.engine.name,
                               "signature": str(checker.signature()), "all_flags": result.to_dict(),
                               "major_flags": major.to_dict()}
    intervals = None
    if resamples:
        intervals = (bootstrap(result, resamples, seed), bootstrap(major, resamples, seed))
        payload["bootstrap"] = {"all_flags": intervals[0].to_dict(), "major_flags": intervals[1].to_dict()}
    if as_json:
        click.echo(json.dumps(payload, indent=2))
        return
    from ..reports.terminal import print_eval

    print_eval(result, major, how, Console(), intervals)


@main.command()
@click.argument("gold_dirs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--out", "out_path", type=click.Path(path_type=Path), required=True, help="Calibration file to write.")
@click.option("--name", default=None, help="Name recorded in the file and in report signatures [default: the file stem].")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--max-false-flag-rate", type=click.FloatRange(0.0, 1.0), default=DEFAULT_MAX_FALSE_FLAG_RATE, show_default=True,
              help="Flag threshold: at most this share of clean sentences flagged (out of fold).")
@click.option("--major-precision", type=click.FloatRange(0.0, 1.0), default=DEFAULT_MAJOR_PRECISION, show_default=True,
              help="Major threshold: at least this share of major-flagged sentences really erroneous (out of fold).")
@_common_check_options
@handle_errors
def calibrate(gold_dirs: tuple[Path, ...], out_path: Path, name: str | None, seed: int, max_false_flag_rate: float,
              major_precision: float, fail_under: float | None, **opts: Any) -> None:
    """Fit a calibration on annotated articles; use it with `--calibration FILE`."""
    from ..fs import write_atomic
    from ..calibration.evaluate import load_gold_dirs
    from ..calibration.fit import corpus_sha256, fit_calibration, samples_for

    if opts.get("calibration"):
        raise UsageError("calibrate fits a calibration from the signals' own flags; drop --calibration")
    golds = load_gold_dirs(list(gold_dirs))
    inputs = {g.article_path.resolve() for g in golds} | {g.gold_path.resolve() for g in golds}
    if out_path.resolve() in inputs:
        raise UsageError(f"{out_path}: is one of the annotated inputs; write the calibration elsewhere")
    checker = _make_checker({**opts, "no_calibration": True})
    raw = _check_gold(checker, golds, "checking")
    samples = [s for g, r in zip(golds, raw) for s in samples_for(g, r)]
    cal = fit_calibration(
        samples, name=name or out_path.stem, seed=seed, max_false_flag_rate=max_false_flag_rate,
        major_precision=major_precision,
        provenance={"data_sha256": corpus_sha256(golds), "data": sorted(d.name for d in gold_dirs),
                    "engine": checker.engine_choice.engine.name, "signature": str(checker.signature())},
    )
    write_atomic(out_path, cal.to_json())
    click.echo(f"wrote {out_path}: {cal.provenance['sentences']} sentences from {cal.provenance['articles']} articles, "
               f"{len(cal.features)} features; flag at p_error >= {cal.flag_threshold:.3f}, "
               f"major at p_major >= {cal.major_threshold:.3f}")


@main.group()
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

    rows = model_status(_settings(models_dir))
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


@models.command("pull")
@click.argument("names", nargs=-1)
@_models_dir_option
@click.option("--force", is_flag=True, help="Download again even if present.")
@handle_errors
def models_pull(names: tuple[str, ...], models_dir: Path | None, force: bool) -> None:
    """Download models (all by default) into the models directory; resumable."""
    from ..neural.manifest import pull

    for resolved in pull(list(names) or None, _settings(models_dir), force=force):
        click.echo(f"{resolved.spec.name}: {resolved.path} ({resolved.source}, revision {resolved.revision})")


@models.command("convert")
@click.argument("names", nargs=-1)
@_models_dir_option
@click.option("--force", is_flag=True, help="Convert again even if up to date.")
@handle_errors
def models_convert(names: tuple[str, ...], models_dir: Path | None, force: bool) -> None:
    """Convert the Marian models to CTranslate2 int8 for the faster `ct2` engine."""
    from ..engines.ct2 import convert_models

    for path in convert_models(_settings(models_dir, offline=True), list(names) or None, force=force):
        click.echo(f"converted: {path}")


@main.group()
def glossary() -> None:
    """Glossaries: validate them before use."""


@glossary.command("check")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@handle_errors
def glossary_check(paths: tuple[Path, ...]) -> None:
    """List every problem in each glossary with its line number; exit 2 if there are any."""
    from ..glossary.concepts import inspect_glossary_file

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
              help="Glossary file to write (the project's stanza format; use it with --glossary).")
@handle_errors
def glossary_learn(reviews: tuple[Path, ...], out_path: Path) -> None:
    """Turn accepted and edited terminology decisions in review files into glossary entries."""
    from ..fs import write_atomic
    from ..glossary.learn import learn_glossary
    from ..reports.naming import guard_outputs

    guard_outputs([out_path], reviews)
    loaded = [_load_review(p) for p in reviews]
    result = learn_glossary(loaded)
    write_atomic(out_path, result.to_glossary(str(p) for p in reviews))
    for conflict in result.conflicts:
        err_console.print(f"[yellow]conflict (left out):[/] {escape(conflict)}", soft_wrap=True)
    for skipped in result.skipped:
        err_console.print(f"[yellow]skipped:[/] {escape(skipped)}", soft_wrap=True)
    n = len(result.concepts)
    click.echo(f"wrote {out_path}: {n} concept{'s' if n != 1 else ''}"
               + (f"; {len(result.conflicts)} conflicting decision(s) listed, not guessed" if result.conflicts else ""))


@main.group()
def review() -> None:
    """Review files exported from the HTML report."""


@review.command("apply")
@click.argument("review_path", metavar="REVIEW.json", type=click.Path(path_type=Path))
@click.option("--out", "out_path", type=click.Path(path_type=Path), default=Path("-"), show_default=True,
              help="Where to write the corrected article ('-': standard output).")
@handle_errors
def review_apply(review_path: Path, out_path: Path) -> None:
    """Write the corrected article (plain text) from an editor's review."""
    from ..fs import is_stdout, write_atomic
    from ..reports.naming import guard_outputs

    loaded = _load_review(review_path)
    # the article itself, where it can be found, is an input too: never written over
    article = Path(loaded.source)
    guard_outputs([out_path], [review_path, article, review_path.parent / article.name])
    text = loaded.corrected_text()
    if is_stdout(out_path):
        click.echo(text, nl=False)
        return
    write_atomic(out_path, text)
    err_console.print(f"wrote {escape(str(out_path))}", soft_wrap=True)


@main.group()
def cache() -> None:
    """The translation cache."""


@cache.command("clear")
@handle_errors
def cache_clear() -> None:
    """Delete every cached translation and score."""
    from ..neural.cache import CACHE_FILE, clear_cache

    path = Path(_settings().cache_dir) / CACHE_FILE
    removed = clear_cache(path)
    click.echo(f"cleared {path}: " + ("removed the damaged cache file" if removed is None else f"{removed} entries"))

