"""What the two opus-mt engines (marian, ct2) share: one tokenization, one scoring path, the limits.

Both engines turn text into SentencePiece pieces here, with character offsets reported by
SentencePiece itself, truncate to the model's own position limit, and turn model outputs back
into text and `TokenScores` here; each engine only supplies the two model calls (`_generate`
and `_forced`). So `--engine marian` and `--engine ct2` see the same tokens and give the same
log-probabilities (up to int8 quantisation).
"""
from __future__ import annotations

import json
from abc import abstractmethod
from bisect import bisect_right
from pathlib import Path
from typing import Any, Sequence

from ..config import Settings
from ..errors import EngineError
from ..neural.batching import length_buckets
from ..neural.manifest import ModelInfo
from .base import Engine, TokenScores

DIRECTIONS: tuple[tuple[str, str], ...] = (("en", "id"), ("id", "en"))
DEFAULT_MAX_POSITIONS = 512  # opus-mt's limit; used only when the model's files do not say
EOS = "</s>"
UNK = "<unk>"
PAD = "<pad>"
SPECIAL_PIECES = frozenset({EOS, UNK, PAD})
# Bumped when tokenization or scoring changes, so cached outputs of the old code are not reused.
SCORING_VERSION = "spm-offsets,pad-masked,v2"

Span = tuple[int, int]


def decode_cap(n_input_tokens: int, limit: int = DEFAULT_MAX_POSITIONS) -> int:
    """Most tokens a translation of an n-token input may have: a degenerate model that never emits
    </s> stops here instead of running to the model's position limit (never beyond it)."""
    return max(1, min(int(1.5 * n_input_tokens + 10), limit))


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # a damaged file is reported by the model loader, with its fix
    return data if isinstance(data, dict) else {}


def model_max_positions(path: Path) -> int:
    """The most positions a Marian model at `path` takes: the smaller of the model's
    `max_position_embeddings` and the tokenizer's `model_max_length` (HF writes a huge
    number there for 'no limit', which is ignored)."""
    values = [_read_json(path / "config.json").get("max_position_embeddings"),
              _read_json(path / "tokenizer_config.json").get("model_max_length")]
    limits = [int(v) for v in values if isinstance(v, (int, float)) and not isinstance(v, bool) and 2 <= v < 1_000_000]
    return min(limits) if limits else DEFAULT_MAX_POSITIONS


def _char_index(text: str) -> tuple[list[int], int]:
    """Byte offset where each character of `text` starts (UTF-8), and the total byte length."""
    starts, pos = [], 0
    for ch in text:
        starts.append(pos)
        pos += len(ch.encode("utf-8"))
    return starts, pos


def encode_with_offsets(sp: Any, text: str) -> tuple[list[str], list[Span]]:
    """SentencePiece pieces of `text` with each piece's character span in `text`.

    The spans come from SentencePiece itself, which knows how its normalisation (NFKC:
    "…" -> "...", "ﬁ" -> "fi") maps pieces back to the input; re-deriving them from the
    pieces drifts. A piece the normaliser added ("." two and three of "…") has an empty span.
    """
    try:  # sentencepiece >= 0.2.2: character offsets directly
        result = sp.encode(text, out_type="offset_mapping")
        return list(result["pieces"]), [(int(a), int(b)) for a, b in result["offsets"]]
    except (ValueError, TypeError, KeyError):
        pass
    # older sentencepiece: the proto's begin/end are byte offsets into the UTF-8 input
    proto = sp.encode(text, out_type="immutable_proto")
    starts, total = _char_index(text)
    bounds = [*starts, total]

    def char_at(byte: int) -> int:
        return bisect_right(bounds, byte) - 1

    return [p.piece for p in proto.pieces], [(char_at(p.begin), char_at(p.end)) for p in proto.pieces]


def decode_pieces(sp: Any, pieces: Sequence[str]) -> str:
    """Text of output pieces, without </s>, <unk> and <pad>."""
    return str(sp.decode([p for p in pieces if p not in SPECIAL_PIECES])).strip()


def parse_device(device: str) -> tuple[str, int]:
    """'cuda:1' -> ('cuda', 1); 'cpu' -> ('cpu', 0)."""
    kind, _, index = device.partition(":")
    try:
        return kind, int(index) if index else 0
    except ValueError:
        raise EngineError(f"unknown device {device!r}; write cuda:N with a device number, e.g. cuda:1") from None


def resolve_device(device: str, count: int) -> str:
    """The device a run asked for ('auto', 'cpu', 'cuda', 'cuda:N'), checked against the `count`
    CUDA devices the runtime sees; the device number is kept ('cuda:1' stays device 1)."""
    device = (device or "auto").lower()
    if device == "auto":
        return "cuda" if count > 0 else "cpu"
    if device != "cpu" and not device.startswith("cuda"):
        raise EngineError(f"unknown device {device!r}; choose cpu, cuda or auto")
    if device.startswith("cuda"):
        _, index = parse_device(device)
        if count <= 0:
            raise EngineError(f"device {device!r} requested but no CUDA device is available; use --device cpu")
        if index >= count:
            raise EngineError(f"device {device!r} requested but only {count} CUDA device(s) are visible; "
                              f"use cuda:0 to cuda:{count - 1}, or --device cpu")
    return device


def require_modules(engine: str, *names: str) -> list[Any]:
    """Import an engine's runtime libraries, or say in one line how to install them."""
    import importlib

    try:
        return [importlib.import_module(name) for name in names]
    except ImportError as exc:
        raise EngineError(f"the {engine} engine needs {' and '.join(names)} ({one_line(exc)}); "
                          "pip install 'mtqc[neural]'") from exc


def one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{exc.__class__.__name__}: {text[0] if text else ''}"[:300]


class OpusMtEngine(Engine):
    """The opus-mt pair behind either runtime: model identity, limits, tokenization and scoring.

    Subclasses load their runtime and fill `self._spm[(src, tgt)] = (source_spm, target_spm)`,
    then implement `_generate` and `_forced` on pieces.
    """

    _resolved: dict[tuple[str, str], Any]  # (src, tgt) -> models.ResolvedModel
    _limits: dict[tuple[str, str], int]  # (src, tgt) -> positions the model takes
    _spm: dict[tuple[str, str], tuple[Any, Any]]

    @property
    def models(self) -> tuple[ModelInfo, ...]:
        return tuple(r.info for r in self._resolved.values())

    def cache_identity(self) -> str:
        # content fingerprints: a model swapped in place never serves stale cache entries
        return "|".join([self.name, self.settings_key(), "cap=1.5n+10", SCORING_VERSION,
                         *(f"{r.spec.name}@{r.revision}#{r.fingerprint()[:16]}" for r in self._resolved.values())])

    def _locate(self, settings: Settings, directions: Sequence[tuple[str, str]], batch_size: int | None,
                num_beams: int | None) -> None:
        """Decoding settings, and every model found before a heavy import: a missing one fails in milliseconds."""
        from ..neural.manifest import locate_models, translation_model_name

        self.batch_size = max(1, int(settings.batch_size if batch_size is None else batch_size))
        self.num_beams = max(1, int(settings.beams if num_beams is None else num_beams))
        found = locate_models([translation_model_name(*d) for d in directions], settings)
        self._resolved = dict(zip(directions, found))
        self._limits = {d: model_max_positions(r.path) for d, r in self._resolved.items()}

    def _direction(self, src: str, tgt: str) -> tuple[str, str]:
        if (src, tgt) not in self._resolved:
            raise EngineError(f"engine {self.name!r} has no model for {src}->{tgt}")
        return (src, tgt)

    # --- one tokenization ---------------------------------------------------------------------

    def source_pieces(self, d: tuple[str, str], text: str) -> list[str]:
        """Input pieces, truncated so that they and </s> fit the model's positions."""
        pieces, _ = encode_with_offsets(self._spm[d][0], text)
        return pieces[:self._limits[d] - 1] + [EOS]

    def target_pieces(self, d: tuple[str, str], text: str) -> tuple[list[str], list[Span]]:
        """Output pieces to score (without </s>) and their spans, truncated like the input."""
        pieces, spans = encode_with_offsets(self._spm[d][1], text)
        n = self._limits[d] - 1
        return pieces[:n], spans[:n]

    # --- the model calls, per runtime ---------------------------------------------------------

    @abstractmethod
    def _generate(self, d: tuple[str, str], batch: list[list[str]], max_new_tokens: int) -> list[list[str]]:
        """Output pieces of the best hypothesis for each input row (special pieces are dropped later)."""

    @abstractmethod
    def _forced(self, d: tuple[str, str], sources: list[list[str]], targets: list[list[str]]) -> list[list[float]]:
        """Log-probability of each target piece and then </s>, given the source pieces."""

    # --- one translation and scoring path -----------------------------------------------------

    def _translate(self, texts: list[str], *, src: str, tgt: str) -> list[str]:
        d = self._direction(src, tgt)
        out: list[str] = [""] * len(texts)
        todo = [i for i, t in enumerate(texts) if t.strip()]
        rows = [self.source_pieces(d, texts[i]) for i in todo]
        for bucket in length_buckets([len(r) for r in rows], self.batch_size):
            batch = [rows[j] for j in bucket]
            outputs = self._generate(d, batch, decode_cap(max(len(r) for r in batch), self._limits[d]))
            for j, pieces in zip(bucket, outputs):
                out[todo[j]] = decode_pieces(self._spm[d][1], pieces)
        return out

    def _score(self, sources: list[str], targets: list[str], *, src: str, tgt: str) -> list[TokenScores]:
        d = self._direction(src, tgt)
        src_rows = [self.source_pieces(d, s) for s in sources]
        tgt_rows = [self.target_pieces(d, t) for t in targets]
        results: list[TokenScores | None] = [None] * len(sources)
        lengths = [len(a) + len(b[0]) for a, b in zip(src_rows, tgt_rows)]
        for bucket in length_buckets(lengths, self.batch_size):
            logprobs = self._forced(d, [src_rows[j] for j in bucket], [tgt_rows[j][0] for j in bucket])
            for j, values in zip(bucket, logprobs):
                pieces, spans = tgt_rows[j]
                if len(values) != len(pieces) + 1:
                    raise EngineError(f"engine {self.name!r} returned {len(values)} scores for "
                                      f"{len(pieces) + 1} tokens")
                results[j] = TokenScores((*pieces, EOS), tuple(float(v) for v in values), (*spans, (-1, -1)))
        return [r for r in results if r is not None]
