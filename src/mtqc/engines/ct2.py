"""Back-translation with CTranslate2: the same MarianMT models, converted to int8 once.

`<models_dir>/NAME-ct2-int8/` holds the converted model and a copy of its SentencePiece files;
a marker records which Marian model it came from, so a changed model is converted again.
Conversion needs torch + transformers (once); translating and scoring need only ctranslate2
and sentencepiece.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any, Sequence

from ..config import Settings
from ..errors import EngineError, ModelNotFoundError
from .base import Engine
from .opus import DIRECTIONS, EOS, OpusMtEngine, one_line as _one_line, parse_device, require_modules, resolve_device

SOURCE_MARKER = "mtqc-source.json"


def _marker(resolved: Any) -> dict[str, str]:
    return {"name": resolved.spec.name, "revision": resolved.revision, "fingerprint": resolved.fingerprint(),
            "quantization": "int8"}


def is_converted(out_dir: Path, resolved: Any) -> bool:
    try:
        marker = json.loads((out_dir / SOURCE_MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return marker == _marker(resolved) and (out_dir / "model.bin").is_file()


def convert_model(resolved: Any, out_dir: Path, *, force: bool = False) -> Path:
    """Convert one resolved Marian model to CTranslate2 int8 in `out_dir` (atomic; safe if two
    processes race: each converts into its own temporary folder and the first rename wins)."""
    if not force and is_converted(out_dir, resolved):
        return out_dir
    try:
        import ctranslate2
        import transformers
    except ImportError as exc:
        raise EngineError(f"converting to CTranslate2 needs ctranslate2, torch and transformers "
                          f"({_one_line(exc)}); pip install 'mtqc[neural]'") from exc
    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            converter = ctranslate2.converters.TransformersConverter(
                str(resolved.path), copy_files=["source.spm", "target.spm"])
            converter.convert(str(tmp / "model"), quantization="int8", force=True)
        (tmp / "model" / SOURCE_MARKER).write_text(json.dumps(_marker(resolved), indent=1), encoding="utf-8")
        if out_dir.exists():
            shutil.rmtree(out_dir, ignore_errors=True)
        try:
            os.rename(tmp / "model", out_dir)
        except OSError:
            if not is_converted(out_dir, resolved):  # lost a race to another process: theirs is fine
                raise
    except EngineError:
        raise
    except Exception as exc:
        raise EngineError(f"could not convert {resolved.spec.name} at {resolved.path} to CTranslate2 "
                          f"({_one_line(exc)}); check the model, or use --engine marian") from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out_dir


def convert_models(settings: Settings, names: Sequence[str] | None = None, *, force: bool = False) -> list[Path]:
    """`mtqc models convert`: CTranslate2 copies of the translation models (all by default)."""
    from ..neural.manifest import ct2_dir, load_manifest, locate_model

    names = list(names or [s.name for s in load_manifest().values() if s.kind == "marian"])
    return [convert_model(locate_model(n, settings), ct2_dir(n, settings), force=force) for n in names]


class CTranslate2Engine(OpusMtEngine):
    """en<->id back-translation and scores with CTranslate2 int8 copies of the MarianMT models."""

    name = "ct2"

    def __init__(self, settings: Settings, *, batch_size: int | None = None, num_beams: int | None = None,
                 directions: Sequence[tuple[str, str]] = DIRECTIONS, compute_type: str | None = None) -> None:
        from ..neural.manifest import ct2_dir

        self._locate(settings, directions, batch_size, num_beams)
        ctranslate2, sentencepiece = require_modules(self.name, "ctranslate2", "sentencepiece")
        self._ctranslate2 = ctranslate2
        self._threads = int(settings.threads or 0)
        self._translators: dict[tuple[str, str], Any] = {}
        self._spm = {}
        self._dirs = {d: convert_model(r, ct2_dir(r.spec.name, settings)) for d, r in self._resolved.items()}
        for d, out in self._dirs.items():
            try:
                self._spm[d] = (sentencepiece.SentencePieceProcessor(model_file=str(out / "source.spm")),
                                sentencepiece.SentencePieceProcessor(model_file=str(out / "target.spm")))
            except Exception as exc:
                raise EngineError(f"CTranslate2 model {out} cannot be loaded ({_one_line(exc)}); delete it "
                                  f"and run `mtqc models convert`") from exc
        requested = (settings.device or "auto").lower()
        self.device = resolve_device(requested, ctranslate2.get_cuda_device_count())
        self.compute_type = compute_type or ("int8" if self.device == "cpu" else "int8_float16")
        if self.device == "cpu":
            self._load_translators()
            return
        try:  # a visible GPU is not a usable one: CUDA libraries may be missing (a CPU build of torch)
            self._load_translators()
            self._probe()
        except Exception as exc:
            if requested != "auto":
                raise EngineError(f"CTranslate2 cannot run on {self.device} ({_one_line(exc)}); "
                                  "use --device cpu, or install the CUDA libraries CTranslate2 needs") from exc
            self.notes = (f"CTranslate2 could not use {self.device} ({_one_line(exc)}), so it runs on the CPU; "
                          "install the CUDA libraries CTranslate2 needs to use the GPU.",)
            self.device, self.compute_type = "cpu", compute_type or "int8"
            self._load_translators()

    def _load_translators(self) -> None:
        kind, index = parse_device(self.device)
        self._translators = {}
        for d, out in self._dirs.items():
            try:
                self._translators[d] = self._ctranslate2.Translator(
                    str(out), device=kind, device_index=index, compute_type=self.compute_type,
                    intra_threads=self._threads, inter_threads=1)
            except Exception as exc:
                if kind != "cpu":
                    raise  # the caller falls back to the CPU, or says the device is unusable
                raise EngineError(f"CTranslate2 model {out} cannot be loaded ({_one_line(exc)}); delete it "
                                  f"and run `mtqc models convert`") from exc

    def _probe(self) -> None:
        """One tiny translation per model: a device that cannot run fails here, at load, not mid-batch."""
        for translator in self._translators.values():
            translator.translate_batch([[EOS]], beam_size=1, max_decoding_length=1)

    def settings_key(self) -> str:
        return f"beams={self.num_beams},{self.compute_type}"

    def _generate(self, d: tuple[str, str], batch: list[list[str]], max_new_tokens: int) -> list[list[str]]:
        results = self._translators[d].translate_batch(
            batch, beam_size=self.num_beams, max_batch_size=self.batch_size,
            max_decoding_length=max_new_tokens, return_scores=False)
        return [list(r.hypotheses[0]) for r in results]

    def _forced(self, d: tuple[str, str], sources: list[list[str]], targets: list[list[str]]) -> list[list[float]]:
        results = self._translators[d].score_batch(sources, targets, max_batch_size=self.batch_size)
        return [list(r.log_probs) for r in results]


def create_ct2_engine(settings: Settings, **kwargs: Any) -> Engine:
    """The factory behind `--engine ct2` (`engines.select_engine` puts it behind the cache)."""
    try:
        return CTranslate2Engine(settings, **kwargs)
    except (EngineError, ModelNotFoundError):
        raise
    except Exception as exc:
        raise EngineError(f"the ct2 engine could not start ({_one_line(exc)})") from exc
