"""`mtqc eval` and `mtqc calibrate`: measure on annotated articles, and fit a calibration."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console

from ..calibration.model import DEFAULT_MAJOR_PRECISION, DEFAULT_MAX_FALSE_FLAG_RATE
from ..errors import UsageError
from .common import check_options, err_console, gold_inputs, guard_command_outputs, handle_errors, make_checker

if TYPE_CHECKING:
    from ..pipeline import Checker


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


@click.command("eval")
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
@check_options
@handle_errors
def eval_command(gold_dirs: tuple[Path, ...], folds: int | None, as_json: bool, seed: int, resamples: int,
                 reports_dir: Path | None, **opts: Any) -> None:
    """Measure mtqc on annotated articles (folders of *.gold.json beside the articles)."""
    import json

    from ..calibration.evaluate import bootstrap, evaluate, load_gold_dirs
    from ..reports import write_json

    golds = load_gold_dirs(list(gold_dirs))
    report_paths = [reports_dir / f"{Path(g.name).stem}.json" for g in golds] if reports_dir is not None else []
    guard_command_outputs(report_paths, opts, gold_inputs(golds))  # before the articles are checked
    if folds is not None:
        from ..calibration.fit import cross_validate

        if opts.get("calibration") or opts.get("no_calibration"):
            raise UsageError("--folds fits its own calibrations; drop --calibration/--no-calibration")
        checker = make_checker({**opts, "no_calibration": True})
        raw = _check_gold(checker, golds, "checking")
        result, major, reports = cross_validate(golds, raw, folds=folds, seed=seed)
        how = f"{folds}-fold cross-validation grouped by article (each article scored by a calibration fitted without it)"
    else:
        checker = make_checker(opts)
        reports = _check_gold(checker, golds, "checking")
        pairs = list(zip(golds, reports))
        result, major = evaluate(pairs, "minor"), evaluate(pairs, "major")
        cal = checker.calibration
        how = f"calibration {cal.label}" if cal else "uncalibrated signal flags"
    for report, report_path in zip(reports, report_paths):
        write_json(report, report_path)
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


@click.command()
@click.argument("gold_dirs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--out", "out_path", type=click.Path(path_type=Path), required=True, help="Calibration file to write.")
@click.option("--name", default=None, help="Name recorded in the file and in report signatures [default: the file stem].")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--max-false-flag-rate", type=click.FloatRange(0.0, 1.0), default=DEFAULT_MAX_FALSE_FLAG_RATE, show_default=True,
              help="Flag threshold: at most this share of clean sentences flagged (out of fold).")
@click.option("--major-precision", type=click.FloatRange(0.0, 1.0), default=DEFAULT_MAJOR_PRECISION, show_default=True,
              help="Major threshold: at least this share of major-flagged sentences really erroneous (out of fold).")
@check_options
@handle_errors
def calibrate(gold_dirs: tuple[Path, ...], out_path: Path, name: str | None, seed: int, max_false_flag_rate: float,
              major_precision: float, **opts: Any) -> None:
    """Fit a calibration on annotated articles; use it with `--calibration FILE`."""
    from ..fs import write_atomic
    from ..calibration.evaluate import load_gold_dirs
    from ..calibration.fit import corpus_sha256, fit_calibration, samples_for

    if opts.get("calibration"):
        raise UsageError("calibrate fits a calibration from the signals' own flags; drop --calibration")
    golds = load_gold_dirs(list(gold_dirs))
    guard_command_outputs([out_path], opts, gold_inputs(golds))
    checker = make_checker({**opts, "no_calibration": True})
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
