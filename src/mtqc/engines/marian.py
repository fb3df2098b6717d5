"""Neural back-translation with MarianMT (Helsinki-NLP/opus-mt-en-id and opus-mt-id-en) on torch.

torch and transformers are imported only when an engine is built, never at module import, so
that the offline path does not pay for them. The helpers at the top (spans of SentencePiece
pieces, length buckets, the decoding cap) are shared with the CTranslate2 engine.
"""
from __future__ import annotations

import unicodedata
import warnings
from pathlib import Path
from typing import Any, Iterator, Sequence

from ..config import Settings
from ..errors import EngineError, ModelNotFoundError
from .base import Engine, ModelInfo, TokenScores

DIRECTIONS: tuple[tuple[str, str], ...] = (("en", "id"), ("id", "en"))
DEFAULT_BATCH_SIZE = 32
DEFAULT_NUM_BEAMS = 4
MAX_INPUT_TOKENS = 510  # opus-mt has 512 positions; longer inputs are truncated
SPIECE = "\u2581"


def decode_cap(n_input_tokens: int) -> int:
    """Most tokens a translation of an n-token input may have: a degenerate model that never emits
    </s> stops here instead of at 512."""
    return min(int(1.5 * n_input_tokens + 10), MAX_INPUT_TOKENS)


def length_buckets(lengths: Sequence[int], batch_size: int) -> Iterator[list[int]]:
    """Indices sorted by length, in batches: little padding, so little wasted compute."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    for i in range(0, len(order), max(1, batch_size)):
        yield order[i:i + batch_size]


def piece_spans(text: str, pieces: Sequence[str]) -> list[tuple[int, int]]:
    """Character span of each SentencePiece piece in `text`.

    "\u2581" marks a word start (whitespace skipped in the text). Pieces are NFKC-normalised by
    SentencePiece, so a piece that does not match the text verbatim consumes text characters until
    their normalised form is as long as the piece. Spans never leave the text.
    """
    spans: list[tuple[int, int]] = []
    pos, n = 0, len(text)
    for piece in pieces:
        body = piece
        if body.startswith(SPIECE):
            body = body[1:]
            while pos < n and text[pos].isspace():
                pos += 1
        body = body.replace(SPIECE, " ")
        if not body:
            spans.append((pos, pos))
            continue
        if text.startswith(body, pos):
            end = pos + len(body)
        else:
            end, acc = pos, ""
            while end < n and len(unicodedata.normalize("NFKC", acc)) < len(body):
                acc += text[end]
                end += 1
        spans.append((pos, end))
        pos = end
    return spans


def resolve_device(device: str, cuda_available: bool) -> str:
    device = (device or "auto").lower()
    if device == "auto":
        return "cuda" if cuda_available else "cpu"
    if device.startswith("cuda") and not cuda_available:
        raise EngineError(f"device {device!r} requested but no CUDA device is available; use --device cpu")
    if device != "cpu" and not device.startswith("cuda"):
        raise EngineError(f"unknown device {device!r}; choose cpu, cuda or auto")
    return device


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{exc.__class__.__name__}: {text[0] if text else ''}"[:300]


class OpusMtEngine(Engine):
    """What the engines over the opus-mt pair share: model identity and direction lookup."""

    _resolved: dict[tuple[str, str], Any]  # (src, tgt) -> models.ResolvedModel

    @property
    def models(self) -> tuple[ModelInfo, ...]:
        return tuple(r.info for r in self._resolved.values())

    def cache_identity(self) -> str:
        # content fingerprints: a model swapped in place never serves stale cache entries
        return "|".join([self.name, self.settings_key(), "cap=1.5n+10",
                         *(f"{r.spec.name}@{r.revision}#{r.fingerprint()[:16]}" for r in self._resolved.values())])

    def _locate(self, settings: Settings, directions: Sequence[tuple[str, str]], batch_size: int,
                num_beams: int) -> None:
        """Decoding settings, and every model found before a heavy import: a missing one fails in milliseconds."""
        from ..models import locate_models, translation_model_name

        self.batch_size = max(1, int(batch_size))
        self.num_beams = max(1, int(num_beams))
        found = locate_models([translation_model_name(*d) for d in directions], settings)
        self._resolved = dict(zip(directions, found))

    def _direction(self, src: str, tgt: str) -> tuple[str, str]:
        if (src, tgt) not in self._resolved:
            raise EngineError(f"engine {self.name!r} has no model for {src}->{tgt}")
        return (src, tgt)


class MarianEngine(OpusMtEngine):
    """en<->id back-translation and forced-decoding scores with two MarianMT models."""

    name = "marian"

    def __init__(self, settings: Settings, *, batch_size: int = DEFAULT_BATCH_SIZE,
                 num_beams: int = DEFAULT_NUM_BEAMS, directions: Sequence[tuple[str, str]] = DIRECTIONS) -> None:
        self._locate(settings, directions, batch_size, num_beams)
        try:
            import torch
            import transformers
        except ImportError as exc:
            raise EngineError(f"the marian engine needs torch and transformers ({_one_line(exc)}); "
                              "pip install 'mtqc[neural]'") from exc
        self._torch = torch
        if settings.threads:
            torch.set_num_threads(max(1, int(settings.threads)))
        self.device = resolve_device(settings.device, torch.cuda.is_available())
        transformers.utils.logging.set_verbosity_error()
        transformers.utils.logging.disable_progress_bar()
        self._models: dict[tuple[str, str], Any] = {}
        self._tokenizers: dict[tuple[str, str], Any] = {}
        for d, resolved in self._resolved.items():
            self._tokenizers[d], self._models[d] = self._load(resolved.spec.name, resolved.path)

    def _load(self, name: str, path: Path) -> tuple[Any, Any]:
        from transformers import MarianMTModel, MarianTokenizer

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # "Recommended: pip install sacremoses" etc.
                tokenizer = MarianTokenizer.from_pretrained(str(path), local_files_only=True)
                model = MarianMTModel.from_pretrained(str(path), local_files_only=True)
        except Exception as exc:  # corrupt config/weights/vocab: one line, with the fix
            raise EngineError(
                f"model {name} at {path} cannot be loaded ({_one_line(exc)}); delete the folder and "
                f"run `mtqc models pull {name}`"
            ) from exc
        model.eval()
        if self.device != "cpu":
            model.to(self.device)  # type: ignore[arg-type]
        return tokenizer, model

    def settings_key(self) -> str:
        return f"beams={self.num_beams}"

    def _pad(self, rows: list[list[int]], pad_id: int) -> tuple[Any, Any]:
        torch = self._torch
        width = max(len(r) for r in rows)
        ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, r in enumerate(rows):
            ids[i, :len(r)] = torch.tensor(r, dtype=torch.long)
            mask[i, :len(r)] = 1
        return ids.to(self.device), mask.to(self.device)

    def _source_ids(self, tokenizer: Any, texts: list[str]) -> list[list[int]]:
        rows = tokenizer(texts, truncation=True, max_length=MAX_INPUT_TOKENS)["input_ids"]
        return [list(r) for r in rows]

    def _translate(self, texts: list[str], *, src: str, tgt: str) -> list[str]:
        d = self._direction(src, tgt)
        tokenizer, model = self._tokenizers[d], self._models[d]
        out: list[str] = [""] * len(texts)
        todo = [i for i, t in enumerate(texts) if t.strip()]
        if not todo:
            return out
        ids = self._source_ids(tokenizer, [texts[i] for i in todo])
        with self._torch.inference_mode():
            for bucket in length_buckets([len(r) for r in ids], self.batch_size):
                rows = [ids[j] for j in bucket]
                input_ids, mask = self._pad(rows, tokenizer.pad_token_id)
                generated = model.generate(
                    input_ids=input_ids, attention_mask=mask, num_beams=self.num_beams, do_sample=False,
                    max_new_tokens=decode_cap(max(len(r) for r in rows)), max_length=None,
                )
                decoded = tokenizer.batch_decode(generated, skip_special_tokens=True)
                for j, text in zip(bucket, decoded):
                    out[todo[j]] = text.strip()
        return out

    def _target_pieces(self, tokenizer: Any, text: str) -> tuple[list[str], list[int]]:
        pieces = list(tokenizer.spm_target.encode(text, out_type=str))[:MAX_INPUT_TOKENS]
        vocab = tokenizer.get_tgt_vocab() if getattr(tokenizer, "separate_vocabs", False) else tokenizer.encoder
        unk = vocab[tokenizer.unk_token]
        return pieces, [vocab.get(p, unk) for p in pieces] + [tokenizer.eos_token_id]

    def _score(self, sources: list[str], targets: list[str], *, src: str, tgt: str) -> list[TokenScores]:
        torch = self._torch
        d = self._direction(src, tgt)
        tokenizer, model = self._tokenizers[d], self._models[d]
        src_ids = self._source_ids(tokenizer, sources)
        encoded = [self._target_pieces(tokenizer, t) for t in targets]
        start = model.config.decoder_start_token_id
        if start is None:
            start = tokenizer.pad_token_id
        results: list[TokenScores | None] = [None] * len(sources)
        with torch.inference_mode():
            lengths = [len(src_ids[j]) + len(encoded[j][1]) for j in range(len(sources))]
            for bucket in length_buckets(lengths, self.batch_size):
                input_ids, mask = self._pad([src_ids[j] for j in bucket], tokenizer.pad_token_id)
                labels = [encoded[j][1] for j in bucket]
                label_ids, label_mask = self._pad(labels, tokenizer.pad_token_id)
                decoder_in = torch.full_like(label_ids, tokenizer.pad_token_id)
                decoder_in[:, 0] = start
                decoder_in[:, 1:] = label_ids[:, :-1]
                logits = model(input_ids=input_ids, attention_mask=mask, decoder_input_ids=decoder_in,
                               decoder_attention_mask=label_mask).logits
                logprobs = torch.log_softmax(logits.float(), dim=-1)
                picked = logprobs.gather(-1, label_ids.unsqueeze(-1)).squeeze(-1).cpu()
                for row, j in enumerate(bucket):
                    pieces = encoded[j][0]
                    n = len(pieces) + 1
                    values = tuple(float(v) for v in picked[row, :n].tolist())
                    spans = (*piece_spans(targets[j], pieces), (-1, -1))
                    results[j] = TokenScores((*pieces, tokenizer.eos_token), values, spans)
        return [r for r in results if r is not None]


def create_marian_engine(settings: Settings, **kwargs: Any) -> Engine:
    """The factory behind `--engine marian`: the engine, behind the persistent cache."""
    from ..cache import with_cache

    try:
        engine = MarianEngine(settings, **kwargs)
    except (EngineError, ModelNotFoundError):
        raise
    except Exception as exc:  # anything unexpected while loading is still an engine problem
        raise EngineError(f"the marian engine could not start ({_one_line(exc)})") from exc
    return with_cache(engine, settings)
