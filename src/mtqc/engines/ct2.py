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
from .base import Engine, TokenScores
from .marian import (OpusMtEngine, DEFAULT_BATCH_SIZE, DEFAULT_NUM_BEAMS, DIRECTIONS, MAX_INPUT_TOKENS, _one_line,
                     decode_cap, length_buckets, piece_spans, resolve_device)

SOURCE_MARKER = "mtqc-source.json"
EOS = "</s>"
UNK = "<unk>"


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
    from ..models import ct2_dir, load_manifest, locate_model

    names = list(names or [s.name for s in load_manifest().values() if s.kind == "marian"])
    return [convert_model(locate_model(n, settings), ct2_dir(n, settings), force=force) for n in names]


class CTranslate2Engine(OpusMtEngine):
    """en<->id back-translation and scores with CTranslate2 int8 copies of the MarianMT models."""

    name = "ct2"

    def __init__(self, settings: Settings, *, batch_size: int = DEFAULT_BATCH_SIZE,
                 num_beams: int = DEFAULT_NUM_BEAMS, directions: Sequence[tuple[str, str]] = DIRECTIONS,
                 compute_type: str | None = None) -> None:
        from ..models import ct2_dir

        self._locate(settings, directions, batch_size, num_beams)
        try:
            import ctranslate2
            import sentencepiece
        except ImportError as exc:
            raise EngineError(f"the ct2 engine needs ctranslate2 and sentencepiece ({_one_line(exc)}); "
                              "pip install 'mtqc[neural]'") from exc
        self.device = resolve_device(settings.device, ctranslate2.get_cuda_device_count() > 0)
        self.compute_type = compute_type or ("int8" if self.device == "cpu" else "int8_float16")
        self._translators: dict[tuple[str, str], Any] = {}
        self._spm: dict[tuple[str, str], tuple[Any, Any]] = {}
        for d, resolved in self._resolved.items():
            out = convert_model(resolved, ct2_dir(resolved.spec.name, settings))
            try:
                self._translators[d] = ctranslate2.Translator(
                    str(out), device=self.device.split(":")[0], compute_type=self.compute_type,
                    intra_threads=int(settings.threads or 0), inter_threads=1)
                self._spm[d] = (sentencepiece.SentencePieceProcessor(model_file=str(out / "source.spm")),
                                sentencepiece.SentencePieceProcessor(model_file=str(out / "target.spm")))
            except Exception as exc:
                raise EngineError(f"CTranslate2 model {out} cannot be loaded ({_one_line(exc)}); delete it "
                                  f"and run `mtqc models convert`") from exc

    def settings_key(self) -> str:
        return f"beams={self.num_beams},{self.compute_type}"

    @staticmethod
    def _source_tokens(sp: Any, text: str) -> list[str]:
        return list(sp.encode(text, out_type=str))[:MAX_INPUT_TOKENS] + [EOS]

    def _translate(self, texts: list[str], *, src: str, tgt: str) -> list[str]:
        d = self._direction(src, tgt)
        translator, (sp_src, sp_tgt) = self._translators[d], self._spm[d]
        out: list[str] = [""] * len(texts)
        todo = [i for i, t in enumerate(texts) if t.strip()]
        tokens = [self._source_tokens(sp_src, texts[i]) for i in todo]
        for bucket in length_buckets([len(t) for t in tokens], self.batch_size):
            batch = [tokens[j] for j in bucket]
            results = translator.translate_batch(
                batch, beam_size=self.num_beams, max_batch_size=self.batch_size,
                max_decoding_length=decode_cap(max(len(t) for t in batch)), return_scores=False)
            for j, result in zip(bucket, results):
                hyp = [t for t in result.hypotheses[0] if t not in (EOS, UNK)]
                out[todo[j]] = sp_tgt.decode(hyp).strip()
        return out

    def _score(self, sources: list[str], targets: list[str], *, src: str, tgt: str) -> list[TokenScores]:
        d = self._direction(src, tgt)
        translator, (sp_src, sp_tgt) = self._translators[d], self._spm[d]
        src_tokens = [self._source_tokens(sp_src, s) for s in sources]
        tgt_pieces = [list(sp_tgt.encode(t, out_type=str))[:MAX_INPUT_TOKENS] for t in targets]
        results = translator.score_batch(src_tokens, tgt_pieces, max_batch_size=self.batch_size)
        out: list[TokenScores] = []
        for text, pieces, result in zip(targets, tgt_pieces, results):
            logprobs = tuple(float(v) for v in result.log_probs)
            if len(logprobs) != len(pieces) + 1:
                raise EngineError(f"ct2 returned {len(logprobs)} scores for {len(pieces) + 1} tokens")
            out.append(TokenScores((*pieces, EOS), logprobs, (*piece_spans(text, pieces), (-1, -1))))
        return out


def create_ct2_engine(settings: Settings, **kwargs: Any) -> Engine:
    """The factory behind `--engine ct2`: the engine, behind the persistent cache."""
    from ..cache import with_cache

    try:
        engine = CTranslate2Engine(settings, **kwargs)
    except (EngineError, ModelNotFoundError):
        raise
    except Exception as exc:
        raise EngineError(f"the ct2 engine could not start ({_one_line(exc)})") from exc
    return with_cache(engine, settings)
