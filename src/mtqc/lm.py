"""A causal language model (distilgpt2 by default) that scores English sentences, batched."""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:
    from .cache import Cache

from .config import Settings
from .engines.base import ModelInfo
from .errors import EngineError

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

    def _score(self, texts: list[str]) -> list[SentenceLogprob]:
        torch = self._torch
        bos = self.tokenizer.bos_token_id if self.tokenizer.bos_token_id is not None else self.tokenizer.eos_token_id
        results: list[SentenceLogprob | None] = [None] * len(texts)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # length buckets: little padding
        for start in range(0, len(order), self.batch_size):
            batch = [order[k] for k in range(start, min(start + self.batch_size, len(order)))]
            enc = [self.tokenizer(texts[i], return_offsets_mapping=True, add_special_tokens=False) for i in batch]
            width = 1 + max(len(e["input_ids"]) for e in enc)
            ids = torch.full((len(batch), width), bos, dtype=torch.long)
            mask = torch.zeros((len(batch), width), dtype=torch.long)
            for row, e in enumerate(enc):
                n = len(e["input_ids"])
                ids[row, 0] = bos
                ids[row, 1:n + 1] = torch.tensor(e["input_ids"], dtype=torch.long)
                mask[row, : n + 1] = 1
            with torch.inference_mode():
                logits = self.model(input_ids=ids.to(self.device), attention_mask=mask.to(self.device)).logits
                logp = torch.log_softmax(logits[:, :-1].float(), dim=-1)
                token_lp = logp.gather(-1, ids[:, 1:].to(self.device).unsqueeze(-1)).squeeze(-1).cpu()
            for row, (i, e) in enumerate(zip(batch, enc)):
                n = len(e["input_ids"])
                results[i] = SentenceLogprob(
                    tuple(float(x) for x in token_lp[row, :n]),
                    tuple((int(a), int(b)) for a, b in e["offset_mapping"]),
                )
        return [r for r in results if r is not None]


def _dump(s: SentenceLogprob) -> str:
    return json.dumps([list(s.logprobs), [list(x) for x in s.spans]])


def _load(text: str) -> SentenceLogprob:
    logprobs, spans = json.loads(text)
    return SentenceLogprob(tuple(logprobs), tuple((int(a), int(b)) for a, b in spans))


def load_lm(settings: Settings) -> CausalLM:
    """Find (or fetch, unless offline) the manifest's LM and load it; EngineError if it cannot."""
    from .models import locate_model

    resolved = locate_model(LM_NAME, settings)
    return CausalLM(str(resolved.path), resolved.info)


def unigram_logprob(word: str) -> float:
    """Natural-log unigram probability of an English word (wordfreq), for SLOR."""
    from wordfreq import word_frequency

    return math.log(max(word_frequency(word.lower(), "en"), 1e-9))
