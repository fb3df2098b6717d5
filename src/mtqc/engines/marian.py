"""Neural back-translation with MarianMT (Helsinki-NLP/opus-mt-en-id and opus-mt-id-en) on torch.

torch and transformers are imported only when an engine is built, never at module import, so
that the offline path does not pay for them. Tokenization, truncation and the scoring path are
shared with the CTranslate2 engine (`engines/opus.py`); this module only runs the model.
"""
from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, Sequence

from ..config import Settings
from ..errors import EngineError, ModelNotFoundError
from .base import Engine
from .opus import DIRECTIONS, EOS, PAD, UNK, OpusMtEngine, one_line, require_modules, resolve_device


class MarianEngine(OpusMtEngine):
    """en<->id back-translation and forced-decoding scores with two MarianMT models."""

    name = "marian"

    def __init__(self, settings: Settings, *, batch_size: int | None = None, num_beams: int | None = None,
                 directions: Sequence[tuple[str, str]] = DIRECTIONS) -> None:
        self._locate(settings, directions, batch_size, num_beams)
        torch, transformers = require_modules(self.name, "torch", "transformers")
        self._torch = torch
        if settings.threads:
            torch.set_num_threads(max(1, int(settings.threads)))
        self.device = resolve_device(settings.device, torch.cuda.device_count() if torch.cuda.is_available() else 0)
        transformers.utils.logging.set_verbosity_error()
        transformers.utils.logging.disable_progress_bar()
        self._models: dict[tuple[str, str], Any] = {}
        self._tokenizers: dict[tuple[str, str], Any] = {}
        self._spm = {}
        self._vocab: dict[tuple[str, str], tuple[dict[str, int], dict[str, int], dict[int, str]]] = {}
        for d, resolved in self._resolved.items():
            tokenizer, model = self._load(resolved.spec.name, resolved.path)
            self._tokenizers[d], self._models[d] = tokenizer, model
            self._spm[d] = (tokenizer.spm_source, tokenizer.spm_target)
            src_vocab = dict(tokenizer.encoder)
            tgt_vocab = dict(tokenizer.get_tgt_vocab()) if getattr(tokenizer, "separate_vocabs", False) else src_vocab
            self._vocab[d] = (src_vocab, tgt_vocab, {i: p for p, i in tgt_vocab.items()})

    def _load(self, name: str, path: Path) -> tuple[Any, Any]:
        from transformers import MarianMTModel, MarianTokenizer

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # "Recommended: pip install sacremoses" etc.
                tokenizer = MarianTokenizer.from_pretrained(str(path), local_files_only=True)
                model = MarianMTModel.from_pretrained(str(path), local_files_only=True)
        except Exception as exc:  # corrupt config/weights/vocab: one line, with the fix
            raise EngineError(
                f"model {name} at {path} cannot be loaded ({one_line(exc)}); delete the folder and "
                f"run `mtqc models pull {name}`"
            ) from exc
        model.eval()
        if self.device != "cpu":
            model.to(self.device)  # type: ignore[arg-type]
        return tokenizer, model

    def settings_key(self) -> str:
        return f"beams={self.num_beams}"

    def _ids(self, vocab: dict[str, int], pieces: Sequence[str]) -> list[int]:
        unk = vocab[UNK]
        return [vocab.get(p, unk) for p in pieces]

    def _pad(self, rows: list[list[int]], pad_id: int) -> tuple[Any, Any]:
        torch = self._torch
        width = max(len(r) for r in rows)
        ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, r in enumerate(rows):
            ids[i, :len(r)] = torch.tensor(r, dtype=torch.long)
            mask[i, :len(r)] = 1
        return ids.to(self.device), mask.to(self.device)

    def _generate(self, d: tuple[str, str], batch: list[list[str]], max_new_tokens: int) -> list[list[str]]:
        src_vocab, _, id_to_piece = self._vocab[d]
        model = self._models[d]
        input_ids, mask = self._pad([self._ids(src_vocab, r) for r in batch], src_vocab[PAD])
        with self._torch.inference_mode():
            generated = model.generate(
                input_ids=input_ids, attention_mask=mask, num_beams=self.num_beams, do_sample=False,
                max_new_tokens=max_new_tokens, max_length=None,
            )
        # the first position is the decoder start token (<pad>), which is no output
        return [[id_to_piece.get(int(i), UNK) for i in row[1:]] for row in generated.tolist()]

    def _forced(self, d: tuple[str, str], sources: list[list[str]], targets: list[list[str]]) -> list[list[float]]:
        torch = self._torch
        src_vocab, tgt_vocab, _ = self._vocab[d]
        model = self._models[d]
        pad_id = src_vocab[PAD]
        start = model.config.decoder_start_token_id
        if start is None:
            start = pad_id
        labels = [self._ids(tgt_vocab, t) + [tgt_vocab[EOS]] for t in targets]
        with torch.inference_mode():
            input_ids, mask = self._pad([self._ids(src_vocab, s) for s in sources], pad_id)
            label_ids, label_mask = self._pad(labels, pad_id)
            decoder_in = torch.full_like(label_ids, pad_id)
            decoder_in[:, 0] = start
            decoder_in[:, 1:] = label_ids[:, :-1]
            logits = model(input_ids=input_ids, attention_mask=mask, decoder_input_ids=decoder_in,
                           decoder_attention_mask=label_mask).logits.float()
            # <pad> is never an output (generation bans it, CTranslate2 drops it from the vocabulary):
            # leaving it in the softmax would lower every score by its share
            logits[..., tgt_vocab[PAD]] = float("-inf")
            logprobs = torch.log_softmax(logits, dim=-1)
            picked = logprobs.gather(-1, label_ids.unsqueeze(-1)).squeeze(-1).cpu()
        return [picked[row, :len(lab)].tolist() for row, lab in enumerate(labels)]


def create_marian_engine(settings: Settings, **kwargs: Any) -> Engine:
    """The factory behind `--engine marian` (`engines.select_engine` puts it behind the cache)."""
    try:
        return MarianEngine(settings, **kwargs)
    except (EngineError, ModelNotFoundError):
        raise
    except Exception as exc:  # anything unexpected while loading is still an engine problem
        raise EngineError(f"the marian engine could not start ({one_line(exc)})") from exc
