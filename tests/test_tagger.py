"""The optional span tagger's runtime (mtqc.tagger), on a tiny random BERT built at test time."""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mtqc.errors import EngineError, ModelNotFoundError
from mtqc.tagger import META_FILE, WEIGHTS_FILE, SentenceTags, TaggerMeta, TokenProb

# A WordPiece vocabulary written for these tests: enough words for readable sentences.
WORDS = ("the a of in on and to was were is said police flood river city mayor rain road bridge "
         "market rice price new old big small team won lost match people water house school").split()
PIECES = ["##s", "##ed", "##ing", "##er", "##ly"] + [f"##{c}" for c in "abcdefghijklmnopqrstuvwxyz"]
SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
PUNCT = list(".,;:!?\"'()-")
LETTERS = list("abcdefghijklmnopqrstuvwxyz0123456789")
MAX_LENGTH = 24


def write_tiny_bert(path: Path, *, hidden: int = 16, layers: int = 2, seed: int = 0) -> Path:
    """A random BertModel + WordPiece tokenizer in the layout of the packaged MiniLM folder."""
    import torch
    from transformers import BertConfig, BertModel

    path.mkdir(parents=True, exist_ok=True)
    vocab = SPECIAL + WORDS + PIECES + PUNCT + LETTERS
    (path / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    (path / "tokenizer_config.json").write_text(json.dumps({
        "tokenizer_class": "BertTokenizer", "do_lower_case": True, "model_max_length": 64,
        "unk_token": "[UNK]", "sep_token": "[SEP]", "pad_token": "[PAD]", "cls_token": "[CLS]", "mask_token": "[MASK]"}),
        encoding="utf-8")
    config = BertConfig(vocab_size=len(vocab), hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=2,
                        intermediate_size=32, max_position_embeddings=64, pad_token_id=0)
    torch.manual_seed(seed)
    BertModel(config).eval().save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    return write_tiny_bert(tmp_path_factory.mktemp("tiny-bert") / "base")


@pytest.fixture(scope="module")
def trained(tiny_base: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    """A 'trained' tagger: top layer + head set to random values (half-precision exact), then saved."""
    import torch

    from mtqc.tagger import build_model, save_weights

    torch.manual_seed(7)
    model, _ = build_model(tiny_base, 1)
    with torch.no_grad():
        for p in model.parameters():
            if p.requires_grad:
                p.copy_((torch.randn_like(p) * 0.5).half().float())  # exact in fp16, so loading must match exactly
    out = save_weights(model, tmp_path_factory.mktemp("weights") / "tagger", 1, MAX_LENGTH, {"seed": 7})
    return model.eval(), out


def reference_probs(model: Any, tokenizer_base: Path, text: str) -> list[float]:
    import torch

    from mtqc.tagger import build_model, encode

    _, tokenizer = build_model(tokenizer_base, 1)
    inputs, ranges, _ = encode(tokenizer, [text], MAX_LENGTH)
    with torch.inference_mode():
        probs = torch.softmax(model(**inputs).logits, dim=-1)[0, :, 1].tolist()
    return [p for (s, e), p in zip(ranges[0], probs) if e > s]


SENTENCES = ["The mayor said the flood was big.", "Police", "Rice prices rose in the old market, people said.", ""]


def test_load_gives_the_saved_model(tiny_base: Path, trained: tuple[Any, Path]) -> None:
    from mtqc.tagger import SpanTagger, build_model

    model, weights = trained
    tagger = SpanTagger.load(weights, base_path=tiny_base)
    tags = tagger.tag(SENTENCES)
    want = reference_probs(model, tiny_base, SENTENCES[0])
    got = [t.prob for t in tags[0].tokens]
    assert got == pytest.approx(want, abs=1e-5)
    # A model with a fresh head (what a silent load failure would leave) gives other numbers.
    fresh, _ = build_model(tiny_base, 1)
    assert got != pytest.approx(reference_probs(fresh.eval(), tiny_base, SENTENCES[0]), abs=1e-3)
    assert tagger.max_length == MAX_LENGTH


def test_tags_keep_order_and_offsets(tiny_base: Path, trained: tuple[Any, Path]) -> None:
    from mtqc.tagger import SpanTagger

    tags = SpanTagger.load(trained[1], base_path=tiny_base).tag(SENTENCES)
    assert [t.text for t in tags] == SENTENCES
    first = tags[0]
    assert [first.text[t.start:t.end] for t in first.tokens] == ["The", "mayor", "said", "the", "flood", "was", "big", "."]
    assert tags[1].tokens and tags[1].text[tags[1].tokens[0].start:tags[1].tokens[-1].end] == "Police"
    assert tags[3].tokens == () and tags[3].max_prob == 0.0 and tags[3].top_region() is None
    assert all(0.0 <= t.prob <= 1.0 for s in tags for t in s.tokens)


def test_one_forward_pass_per_batch_and_padding_changes_nothing(tiny_base: Path, trained: tuple[Any, Path]) -> None:
    from mtqc.tagger import SpanTagger

    tagger = SpanTagger.load(trained[1], base_path=tiny_base, batch_size=3)
    calls: list[int] = []
    original = tagger.model.forward

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(int(kwargs["input_ids"].shape[0]))
        return original(*args, **kwargs)

    tagger.model.forward = counting  # type: ignore[method-assign]
    together = tagger.tag(SENTENCES * 2)
    assert sorted(calls) == [2, 3, 3]  # 8 sentences in batches of at most 3, never one at a time
    calls.clear()
    alone = [tagger.tag([s])[0] for s in SENTENCES]
    for a, b in zip(together[:4], alone):
        assert [t.prob for t in a.tokens] == pytest.approx([t.prob for t in b.tokens], abs=1e-5)
        assert [(t.start, t.end) for t in a.tokens] == [(t.start, t.end) for t in b.tokens]


def test_long_sentences_are_truncated_to_max_length(tiny_base: Path, trained: tuple[Any, Path]) -> None:
    from mtqc.tagger import SpanTagger

    long = " ".join(["the river city"] * 20)
    tags = SpanTagger.load(trained[1], base_path=tiny_base).tag([long, "The rain."])
    assert len(tags[0].tokens) == MAX_LENGTH - 2 and tags[0].truncated
    assert not tags[1].truncated


def test_only_top_layer_and_head_are_stored(trained: tuple[Any, Path]) -> None:
    from safetensors.torch import load_file

    state = load_file(str(trained[1] / WEIGHTS_FILE))
    assert state and all(k.startswith("classifier.") or ".encoder.layer.1." in k for k in state)
    assert any(".encoder.layer.1." in k for k in state)
    assert {str(v.dtype) for v in state.values()} == {"torch.float16"}
    meta = json.loads((trained[1] / META_FILE).read_text())
    assert meta["trainable_layers"] == 1 and meta["max_length"] == MAX_LENGTH and meta["seed"] == 7


def test_missing_weights_are_a_model_not_found_error(tiny_base: Path, tmp_path: Path) -> None:
    from mtqc.tagger import SpanTagger

    with pytest.raises(ModelNotFoundError, match="train_span_tagger"):
        SpanTagger.load(tmp_path / "nowhere", base_path=tiny_base)


def test_weights_for_another_base_model_are_refused(trained: tuple[Any, Path], tmp_path: Path) -> None:
    from mtqc.tagger import SpanTagger

    other = write_tiny_bert(tmp_path / "wide", hidden=8)
    with pytest.raises(EngineError, match="retrain"):
        SpanTagger.load(trained[1], base_path=other)


def test_corrupt_weights_file_is_an_engine_error(tiny_base: Path, trained: tuple[Any, Path], tmp_path: Path) -> None:
    from mtqc.tagger import SpanTagger

    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / META_FILE).write_bytes((trained[1] / META_FILE).read_bytes())
    (bad / WEIGHTS_FILE).write_bytes(b"not a safetensors file")
    with pytest.raises(EngineError, match="safetensors"):
        SpanTagger.load(bad, base_path=tiny_base)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(st.binary(max_size=60),
                 st.text(max_size=60).map(str.encode),
                 st.dictionaries(st.sampled_from(["format", "trainable_layers", "num_hidden_layers", "hidden_size",
                                                  "vocab_size", "max_length"]),
                                 st.one_of(st.integers(-3, 3), st.text(max_size=3), st.none(), st.booleans()))
                 .map(lambda d: json.dumps(d).encode())))
def test_malformed_metadata_is_always_an_engine_error(tmp_path: Path, raw: bytes) -> None:
    path = tmp_path / META_FILE
    path.write_bytes(raw)
    try:
        meta = TaggerMeta.read(path)
    except EngineError as exc:
        assert str(path) in str(exc)
    else:  # only a well-formed file may pass, and then its numbers are usable
        assert meta.max_length >= 3 and meta.trainable_layers >= 0 and meta.hidden_size >= 1


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.text(st.characters(codec="utf-8"), max_size=80), max_size=5))
def test_any_text_gives_in_range_offsets(tiny_base: Path, trained: tuple[Any, Path], texts: list[str]) -> None:
    tagger = _cached_tagger(tiny_base, trained[1])
    tags = tagger.tag(texts)
    assert [t.text for t in tags] == texts
    for tag in tags:
        ends = [t.end for t in tag.tokens]
        assert ends == sorted(ends)
        for t in tag.tokens:
            assert 0 <= t.start < t.end <= len(tag.text)
            assert tag.text[t.start:t.end].strip()
            assert 0.0 <= t.prob <= 1.0 and not math.isnan(t.prob)
        assert len(tag.tokens) <= MAX_LENGTH - 2


_TAGGERS: dict[tuple[Path, Path], Any] = {}


def _cached_tagger(base: Path, weights: Path) -> Any:
    from mtqc.tagger import SpanTagger

    key = (base, weights)
    if key not in _TAGGERS:
        _TAGGERS[key] = SpanTagger.load(weights, base_path=base)
    return _TAGGERS[key]


def _tags(*probs: float) -> SentenceTags:
    return SentenceTags("x" * (3 * len(probs)), tuple(TokenProb(3 * i, 3 * i + 2, p) for i, p in enumerate(probs)))


@pytest.mark.parametrize("probs, region", [
    ((0.1, 0.7, 0.8, 0.2, 0.9), (3, 8)),       # the run 0.7+0.8 outweighs the lone 0.9
    ((0.1, 0.6, 0.2, 0.95, 0.9), (9, 14)),     # the later, stronger run wins
    ((0.1, 0.3, 0.2), (3, 5)),                 # nothing over the threshold: the top token
    ((0.9,), (0, 2)),
])
def test_top_region(probs: tuple[float, ...], region: tuple[int, int]) -> None:
    assert _tags(*probs).top_region() == region


def test_sentence_aggregates() -> None:
    tags = _tags(0.2, 0.6, 0.8, 0.4)
    assert tags.max_prob == 0.8
    assert tags.mean_prob == pytest.approx(0.5)
    assert tags.share_over_half == 0.5
    assert tags.to_dict()["tokens"][1] == [3, 5, 0.6]


def _training_script() -> Any:
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "scripts" / "train_span_tagger.py"
    spec = importlib.util.spec_from_file_location("train_span_tagger", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_training_labels_mark_pieces_touching_an_error_span() -> None:
    script = _training_script()
    ranges = [(-1, -1), (0, 3), (4, 9), (9, 12), (13, 15), (-1, -1)]
    assert script.token_labels(ranges, [(5, 10)]) == [-100, 0, 1, 1, 0, -100]
    assert script.token_labels(ranges, []) == [-100, 0, 0, 0, 0, -100]


def test_major_recall_at_a_false_flag_rate_never_exceeds_the_rate() -> None:
    script = _training_script()
    ok = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.9]
    assert script.recall_at_ffr([0.95, 0.85, 0.5, 0.05], ok, 0.2)[:2] == (0.5, 0.2)
    # one ok sentence may be flagged, but two tie at the top: flagging one would flag both
    recall, ffr, _ = script.recall_at_ffr([0.95, 0.9, 0.5, 0.05], ok, 0.1)
    assert ffr == 0.0 and recall == 0.25
