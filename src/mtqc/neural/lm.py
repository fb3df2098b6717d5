"""A causal language model (distilgpt2 by default) that scores English sentences, batched."""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:
    from .cache import Cache

from ..config import Settings
from .batching import length_buckets
from .manifest import ModelInfo
from ..errors import EngineError

LM_NAME = "distilgpt2"


@dataclass(frozen=True)
class SentenceLogprob:
    """Per-token log-probabilities of a sentence under the LM, with character spans."""

    logprobs: tuple[float, ...]
    spans: tuple[tuple[int, int], ...]


class CausalLM:
    """Loads a GPT-2-style model from a local directory and scores sentences in batches."""

    def __init__(self, path: str, info: ModelInfo, *, batch_size: int = 16, device: str = "cpu") -> None:
        try:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer
            from transformers.utils import logging as hf_logging
        except ImportError as exc:
            raise EngineError("the neural fluency model needs the 'neural' extra: pip install -e '.[neural]'") from exc
        hf_logging.disable_progress_bar()  # a report, not a download log, belongs on the terminal
        hf_logging.set_verbosity_error()  # "sequence longer than the maximum": windowed below, not an error
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(path)
            self.model = AutoModelForCausalLM.from_pretrained(path).to(device).eval()  # type: ignore[arg-type]
        except (OSError, ValueError) as exc:
            raise EngineError(f"cannot load language model from {path}: {str(exc).splitlines()[0]}") from exc
        if not getattr(self.tokenizer, "is_fast", False):
            raise EngineError(f"language model at {path} needs a fast tokenizer (tokenizer.json) for character offsets")
        self._torch = torch
        self.info = info
        self.batch_size = batch_size
        self.device = device

    def score(self, texts: Sequence[str], cache: "Cache | None" = None) -> list[SentenceLogprob]:
        """Log-probability of each token given the ones before it (the first token given BOS)."""
        from .cache import cached_map

        return cached_map(cache, f"lm|{self.info.hub_id}|{self.info.revision}", texts, self._score,
                          _dump, _load)

    @property
    def window(self) -> int:
        """Positions the model takes: `n_positions` (GPT-2) or `max_position_embeddings`, and the
        tokenizer's `model_max_length` where it names a real limit."""
        config = self.model.config
        limits = [getattr(config, "n_positions", None) or getattr(config, "max_position_embeddings", None),
                  getattr(self.tokenizer, "model_max_length", None)]
        usable = [int(v) for v in limits if isinstance(v, (int, float)) and 2 <= v < 1_000_000]
        return min(usable) if usable else 1024

    def _score(self, texts: list[str]) -> list[SentenceLogprob]:
        torch = self._torch
        bos = self.tokenizer.bos_token_id if self.tokenizer.bos_token_id is not None else self.tokenizer.eos_token_id
        # offsets from the tokenizer itself (a fast tokenizer's offset mapping), never re-derived
        enc = [self.tokenizer(t, return_offsets_mapping=True, add_special_tokens=False) for t in texts]
        token_ids = [list(e["input_ids"]) for e in enc]
        rows = [(i, *row) for i, ids in enumerate(token_ids) for row in lm_windows([bos, *ids], self.window)]
        parts: list[list[tuple[int, list[float]]]] = [[] for _ in texts]  # per text: (row, its scores)
        for bucket in length_buckets([len(r[1]) for r in rows], self.batch_size):  # little padding
            batch = [rows[k] for k in bucket]
            width = max(len(r[1]) for r in batch)
            ids = torch.full((len(batch), width), bos, dtype=torch.long)
            mask = torch.zeros((len(batch), width), dtype=torch.long)
            for row, (_, inp, _) in enumerate(batch):
                ids[row, :len(inp)] = torch.tensor(inp, dtype=torch.long)
                mask[row, :len(inp)] = 1
            with torch.inference_mode():
                logits = self.model(input_ids=ids.to(self.device), attention_mask=mask.to(self.device)).logits
                logp = torch.log_softmax(logits[:, :-1].float(), dim=-1)
                token_lp = logp.gather(-1, ids[:, 1:].to(self.device).unsqueeze(-1)).squeeze(-1).cpu()
            for row, k in enumerate(bucket):
                i, inp, keep = rows[k]
                # logits at position p predict token p + 1: tokens keep.. of the row
                parts[i].append((k, token_lp[row, keep - 1:len(inp) - 1].tolist()))
        out = []
        for i, e in enumerate(enc):
            values = [v for _, part in sorted(parts[i]) for v in part]  # a text's rows were made in order
            out.append(SentenceLogprob(tuple(float(v) for v in values),
                                       tuple((int(a), int(b)) for a, b in e["offset_mapping"])))
        return out


def lm_windows(seq: Sequence[int], window: int) -> list[tuple[list[int], int]]:
    """Rows that score every token of `seq` after the first (BOS) with at most `window` positions each.

    Each row is (input ids, keep): the row's tokens from index `keep` on are scored. The first row
    starts at BOS; a sequence longer than the window continues in rows that repeat the last half
    window of tokens as context, so no token is scored without context and none twice.
    """
    n = len(seq)
    if n <= 1:
        return []
    window = max(2, window)
    context = window // 2
    rows = [(list(seq[:window]), 1)]
    nxt = min(n, window)  # the first token not scored yet
    while nxt < n:
        start = nxt - context
        rows.append((list(seq[start:start + window]), context))
        nxt = min(n, start + window)
    return rows


def _dump(s: SentenceLogprob) -> str:
    return json.dumps([list(s.logprobs), [list(x) for x in s.spans]])


def _load(text: str) -> SentenceLogprob:
    logprobs, spans = json.loads(text)
    return SentenceLogprob(tuple(logprobs), tuple((int(a), int(b)) for a, b in spans))


def load_lm(settings: Settings) -> CausalLM:
    """Find (or fetch, unless offline) the manifest's LM and load it; EngineError if it cannot."""
    from .manifest import locate_model

    resolved = locate_model(LM_NAME, settings)
    return CausalLM(str(resolved.path), resolved.info)


def unigram_logprob(word: str) -> float:
    """Natural-log unigram probability of an English word (wordfreq), for SLOR."""
    from wordfreq import word_frequency

    return math.log(max(word_frequency(word.lower(), "en"), 1e-9))
