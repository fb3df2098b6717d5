"""The neural back-translation engines, driven through the real resolve/load path on tiny models.

The models are built at test time with random weights (tests/tiny_models.py): the tests check
shapes, caps, spans, caching and failure modes, never translation quality.
"""
from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest


from .conftest import tiny_settings
from mtqc.engines.base import Engine, MqmError, SentenceAnnotation, TokenScores
from mtqc.errors import EngineError, ModelNotFoundError

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [
    "The minister said the price of rice would fall by ten percent next month.",
    "Floods in Bali.",
    "",
    "Police arrested three suspects after the robbery at a shop in Surabaya on Monday night.",
    "The minister said the price of rice would fall by ten percent next month.",  # a duplicate
]
TARGETS = [
    "Menteri mengatakan harga beras akan turun sepuluh persen.",
    "Banjir  di Bali ﬁx!",  # double space and a ligature that NFKC turns into "fi"
    "",
    "Polisi menangkap tiga tersangka.",
    "Menteri mengatakan harga beras.",
]


@pytest.fixture(autouse=True)
def _offline_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    monkeypatch.setenv("MTQC_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf-cache"))  # what mtqc reads (config.py)
    try:  # an empty HF cache: a model cached on this machine must not leak into the tests
        from huggingface_hub import constants
    except ImportError:
        return
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf-cache"))


_settings = tiny_settings


# --- manifest and model resolution (no torch) -------------------------------------------------

def test_manifest_entries_and_shipped_copy_match() -> None:
    from mtqc.neural.manifest import load_manifest

    specs = load_manifest()
    assert specs["opus-mt-en-id"].hub_id == "Helsinki-NLP/opus-mt-en-id"
    assert specs["opus-mt-en-id"].direction == "en-id"
    assert specs["opus-mt-id-en"].direction == "id-en"
    assert specs["distilgpt2"].hub_id == "distilbert/distilgpt2" and specs["distilgpt2"].kind == "lm"
    assert specs["opus-mt-en-id"].licence == "cc-by-4.0" and specs["distilgpt2"].licence == "apache-2.0"
    assert all(s.revision and s.size_mb > 0 for s in specs.values())
    shipped = (ROOT / "src" / "mtqc" / "models_manifest.toml").read_text(encoding="utf-8")
    assert (ROOT / "models" / "manifest.toml").read_text(encoding="utf-8") == shipped


def test_missing_model_offline_fails_fast_with_the_fix(tmp_path: Path) -> None:
    from mtqc.neural.manifest import locate_model, model_status

    settings = _settings(tmp_path / "empty", tmp_path)
    with pytest.raises(ModelNotFoundError) as err:
        locate_model("opus-mt-en-id", settings)
    message = str(err.value)
    assert "opus-mt-en-id" in message and "mtqc models pull opus-mt-en-id" in message
    assert "\n" not in message
    rows = {r.name: r for r in model_status(settings)}
    assert not rows["opus-mt-en-id"].present and rows["opus-mt-en-id"].size_bytes == 0


def test_unreachable_hub_fails_fast_when_online(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import mtqc.neural.manifest as models

    monkeypatch.setattr(models, "_hub_reachable", lambda endpoint, timeout=3.0: "cannot reach huggingface.co (test)")
    with pytest.raises(ModelNotFoundError, match="mtqc models pull opus-mt-id-en"):
        models.locate_model("opus-mt-id-en", _settings(tmp_path / "empty", tmp_path, offline=False))


def test_resolve_from_models_dir_and_status(models_dir: Path, tmp_path: Path) -> None:
    from mtqc.neural.manifest import locate_model, model_status

    settings = _settings(models_dir, tmp_path)
    found = locate_model("opus-mt-en-id", settings)
    assert found.path == models_dir / "opus-mt-en-id" and found.source == "models_dir"
    assert found.revision.startswith("local-")  # built by hand: identified by content
    rows = {r.name: r for r in model_status(settings)}
    assert rows["opus-mt-en-id"].present and rows["opus-mt-en-id"].size_bytes > 0
    assert rows["opus-mt-en-id"].where == "models_dir"
    assert rows["distilgpt2"].present
    shutil.rmtree(models_dir / "distilgpt2")
    assert not {r.name: r for r in model_status(settings)}["distilgpt2"].present


def test_resolve_from_hf_cache_then_pull_copies_it(models_dir: Path, tmp_path: Path) -> None:
    from mtqc.neural.manifest import locate_model, pull

    sha = "0123456789abcdef0123456789abcdef01234567"
    repo = Path(os.environ["HF_HUB_CACHE"]) / "models--Helsinki-NLP--opus-mt-en-id"
    shutil.copytree(models_dir / "opus-mt-en-id", repo / "snapshots" / sha)
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(sha)
    settings = _settings(tmp_path / "fresh-models", tmp_path)
    found = locate_model("opus-mt-en-id", settings)
    assert found.source == "hf_cache" and found.revision == sha
    [pulled] = pull(["opus-mt-en-id"], settings)
    assert pulled.path == tmp_path / "fresh-models" / "opus-mt-en-id"
    again = locate_model("opus-mt-en-id", settings)
    assert again.source == "models_dir" and again.revision == sha
    with pytest.raises(ModelNotFoundError, match="offline"):
        pull(["opus-mt-id-en"], settings)


def test_pull_downloads_into_models_dir(models_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The download path, with the hub replaced by a local copy (no network in tests)."""
    hub = pytest.importorskip("huggingface_hub")
    from types import SimpleNamespace

    import mtqc.neural.manifest as models

    source = models_dir / "opus-mt-id-en"
    (source / "pytorch_model.bin").write_bytes(b"unused")  # the repo has both weight formats
    sha = "fedcba9876543210fedcba9876543210fedcba98"
    fetched: list[list[str]] = []

    def fake_info(self: object, repo_id: str, revision: str, timeout: float) -> object:
        assert repo_id == "Helsinki-NLP/opus-mt-id-en" and timeout <= 10
        names = [p.name for p in source.iterdir()] + ["tf_model.h5", "README.md"]
        return SimpleNamespace(sha=sha, siblings=[SimpleNamespace(rfilename=n) for n in names])

    def fake_snapshot(repo_id: str, *, revision: str, local_dir: Path, allow_patterns: list[str], **kw: object) -> str:
        assert revision == sha
        fetched.append(sorted(allow_patterns))
        for name in allow_patterns:
            shutil.copyfile(source / name, Path(local_dir) / name)
        return str(local_dir)

    monkeypatch.setattr(models, "_hub_reachable", lambda endpoint, timeout=3.0: None)
    monkeypatch.setattr(hub.HfApi, "model_info", fake_info)
    monkeypatch.setattr(hub, "snapshot_download", fake_snapshot)
    settings = _settings(tmp_path / "pulled", tmp_path, offline=False)
    [got] = models.pull(["opus-mt-id-en"], settings)
    assert got.path == tmp_path / "pulled" / "opus-mt-id-en" and got.revision == sha
    assert "tf_model.h5" not in fetched[0] and "pytorch_model.bin" not in fetched[0]  # safetensors only
    assert "model.safetensors" in fetched[0] and "source.spm" in fetched[0]
    assert not (tmp_path / "pulled" / ".opus-mt-id-en.partial").exists()
    assert models.locate_model("opus-mt-id-en", settings).revision == sha  # recorded in the marker


def test_spans_come_from_sentencepiece_and_survive_expanding_normalisation(models_dir: Path) -> None:
    """Issue 8, item 19: NFKC turns "…" into three "." pieces; every later piece keeps its own span."""
    spm = pytest.importorskip("sentencepiece")
    from mtqc.engines.opus import SPECIAL_PIECES, encode_with_offsets

    sp = spm.SentencePieceProcessor(model_file=str(models_dir / "opus-mt-id-en" / "target.spm"))
    text = "Wait… the ﬁx  is in, the minister said."
    pieces, spans = encode_with_offsets(sp, text)
    assert pieces == list(sp.encode(text, out_type=str))  # the same pieces the model is fed
    assert pieces.count(".") >= 3  # "…" became three pieces
    for piece, (a, b) in zip(pieces, spans):
        assert 0 <= a <= b <= len(text)
        body = piece.lstrip("\u2581")
        if a == b:
            continue  # an extra piece that normalisation added ("ﬁ" -> "f" "i"): it sits on its character
        if body.isalpha() and body.isascii() and piece not in SPECIAL_PIECES:
            # a word-initial piece covers the space before it; no drift after "…" or the ligature
            assert body in unicodedata.normalize("NFKC", text[a:b]), (piece, text[a:b])
    minister = text.index("minister")
    covered = "".join(text[a:b] for a, b in spans if minister - 1 <= a < minister + len("minister"))
    assert covered.strip() == "minister"


def test_cache_is_shared_between_connections(tmp_path: Path) -> None:
    from mtqc.neural.cache import Cache

    one, two = Cache(tmp_path / "c.sqlite3"), Cache(tmp_path / "c.sqlite3")
    one.put_many([("k", "v1")])
    two.put_many([("k", "v2"), ("j", "w")])  # INSERT OR REPLACE: no conflict
    assert one.get_many(["k", "j", "missing"]) == {"k": "v2", "j": "w"}
    assert one.enabled and two.enabled


def test_auto_falls_back_to_offline_without_importing_torch(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from mtqc.config import Settings\n"
        "from mtqc.engines import select_engine\n"
        f"s = Settings(models_dir=Path({str(tmp_path / 'empty')!r}), cache_dir=Path({str(tmp_path / 'c')!r}), offline=True)\n"
        "choice = select_engine('auto', s)\n"
        "print(choice.engine.name)\n"
        "print('\\n'.join(choice.notes))\n"
        "print('huggingface_hub imported' if 'huggingface_hub' in sys.modules else 'huggingface_hub not imported')\n"
        "print('torch imported' if 'torch' in sys.modules else 'torch not imported')\n"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(tmp_path / "hf-cache"),
           "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "offline"
    assert "opus-mt-en-id" in proc.stdout and "opus-mt-id-en" in proc.stdout
    assert "mtqc models pull opus-mt-en-id opus-mt-id-en" in proc.stdout
    assert lines[-1] == "torch not imported"
    assert lines[-2] == "huggingface_hub not imported"  # the HF cache is looked up by its folder layout


# --- the marian engine (torch) ----------------------------------------------------------------

def test_marian_translate_batch_and_cap(models_dir: Path, tmp_path: Path) -> None:
    from mtqc.engines import select_engine
    from mtqc.engines.marian import MarianEngine
    from mtqc.engines.opus import decode_cap

    engine = select_engine("marian", _settings(models_dir, tmp_path, use_cache=False)).engine
    assert isinstance(engine, MarianEngine) and engine.name == "marian"
    assert [m.name for m in engine.models] == ["opus-mt-en-id", "opus-mt-id-en"]
    model = engine._models[("en", "id")]
    shapes: list[tuple[int, int, int]] = []
    original = model.generate

    def spy(*args: object, **kwargs: object) -> object:
        out = original(*args, **kwargs)
        shapes.append((kwargs["input_ids"].shape[1], out.shape[1], kwargs["max_new_tokens"]))  # type: ignore[union-attr]
        return out

    model.generate = spy
    engine.batch_size = 2
    out = engine.translate(SOURCES, src="en", tgt="id")
    assert len(out) == len(SOURCES) and all(isinstance(t, str) for t in out)
    assert out[2] == ""  # empty input: no model call, empty output
    assert len(shapes) == 2  # 4 non-empty sentences, batches of 2
    for in_len, out_len, cap in shapes:
        assert cap == decode_cap(in_len, 512)  # the tiny model has opus-mt's 512 positions
        assert out_len - 1 <= cap  # minus the decoder start token
    back = engine.translate(out, src="id", tgt="en")
    assert len(back) == len(out)
    with pytest.raises(EngineError, match="no model for en->fr"):
        engine.translate(["x"], src="en", tgt="fr")


def test_marian_score_tokens_logprobs_spans(models_dir: Path, tmp_path: Path) -> None:
    from mtqc.engines import select_engine

    engine = select_engine("marian", _settings(models_dir, tmp_path, use_cache=False)).engine
    scores = engine.score(SOURCES, TARGETS, src="en", tgt="id")
    assert len(scores) == len(TARGETS)
    for text, s in zip(TARGETS, scores):
        assert len(s.tokens) == len(s.logprobs) == len(s.spans) >= 1
        assert s.tokens[-1] == "</s>" and s.spans[-1] == (-1, -1)
        assert all(math.isfinite(v) and v <= 0 for v in s.logprobs)
        assert all(0 <= a <= b <= len(text) for a, b in s.spans[:-1])
        assert math.isfinite(s.mean_logprob)
    covered = [TARGETS[0][a:b] for a, b in scores[0].spans[:-1]]
    assert "".join(covered).replace(" ", "") == TARGETS[0].replace(" ", "")
    # batching does not change a sentence's scores
    alone = engine.score(SOURCES[:1], TARGETS[:1], src="en", tgt="id")[0]
    assert alone.tokens == scores[0].tokens
    assert alone.logprobs == pytest.approx(scores[0].logprobs, abs=1e-4)


def test_cache_hits_skip_the_model_and_persist(models_dir: Path, tmp_path: Path) -> None:
    from mtqc.engines.cached import CachedEngine
    from mtqc.engines import select_engine

    settings = _settings(models_dir, tmp_path)
    engine = select_engine("marian", settings).engine
    assert isinstance(engine, CachedEngine) and engine.name == "marian"
    calls: list[int] = []
    inner_translate, inner_score = engine.inner._translate, engine.inner._score

    def count_translate(texts: list[str], **kw: str) -> list[str]:
        calls.append(len(texts))
        return inner_translate(texts, **kw)

    def count_score(sources: list[str], targets: list[str], **kw: str) -> object:
        calls.append(len(sources))
        return inner_score(sources, targets, **kw)

    engine.inner._translate, engine.inner._score = count_translate, count_score
    first = engine.translate(SOURCES, src="en", tgt="id")
    assert calls == [4]  # one batch of the distinct inputs
    assert engine.translate(SOURCES, src="en", tgt="id") == first
    assert calls == [4]  # all hits
    s1 = engine.score(SOURCES, TARGETS, src="en", tgt="id")
    s2 = engine.score(SOURCES, TARGETS, src="en", tgt="id")
    assert calls == [4, 5] and s1 == s2
    partly_new = engine.translate([SOURCES[0], "A volcano erupted on Sunday."], src="en", tgt="id")
    assert calls == [4, 5, 1] and partly_new[0] == first[0]

    # another process (a new engine on the same cache file) sees the entries
    fresh = select_engine("marian", settings).engine
    fresh.inner._translate = lambda texts, **kw: pytest.fail("cache miss")  # type: ignore[method-assign]
    assert fresh.translate(SOURCES, src="en", tgt="id") == first
    assert fresh.hits == len(SOURCES)


def test_the_cache_is_applied_once_where_the_engine_is_chosen(models_dir: Path, tmp_path: Path) -> None:
    from mtqc.engines import select_engine
    from mtqc.engines.cached import CachedEngine
    from mtqc.engines.marian import MarianEngine, create_marian_engine

    settings = _settings(models_dir, tmp_path)
    assert type(create_marian_engine(settings)) is MarianEngine  # the factory builds, the choice caches
    for name in ("marian", "auto"):
        engine = select_engine(name, settings).engine
        assert isinstance(engine, CachedEngine) and not isinstance(engine.inner, CachedEngine), name
        assert engine.provides == engine.inner.provides == {"backtranslations", "likelihoods"}


class Annotator(Engine):
    """An engine that annotates, keeps per-article accounting, and gives no token scores."""

    name = "annotator"
    can_score = False
    can_annotate = True

    def __init__(self) -> None:
        self.articles = 0

    def begin_article(self) -> None:
        self.articles += 1

    def article_usage(self) -> dict[str, object]:
        return {"annotator": {"articles": self.articles}}

    def _annotate(self, texts: list[str]) -> list[SentenceAnnotation]:
        return [SentenceAnnotation((MqmError(None, "accuracy/omission", "major"),)) for _ in texts]

    def _translate(self, texts: list[str], *, src: str, tgt: str) -> list[str]:
        return [t.upper() for t in texts]

    def _score(self, sources: list[str], targets: list[str], *, src: str, tgt: str) -> list[TokenScores]:
        raise EngineError("no scores")


def test_the_cached_engine_forwards_everything_the_wrapped_engine_offers(tmp_path: Path) -> None:
    from mtqc.engines.cached import CachedEngine
    from mtqc.engines.outputs import compute_model_outputs
    from mtqc.neural.cache import Cache

    engine = CachedEngine(Annotator(), Cache(tmp_path / "c.sqlite3"))
    assert (engine.can_translate, engine.can_score, engine.can_annotate) == (True, False, True)
    assert engine.provides == {"backtranslations", "annotations"}
    outputs = compute_model_outputs(["A sentence.", "Another one."], engine=engine,
                                    needs={"llm_annotations", "likelihoods"})
    assert outputs.llm_annotations is not None and [len(a.errors) for a in outputs.llm_annotations] == [1, 1]
    assert outputs.likelihoods is None  # it gives no scores, so none were asked for
    assert outputs.usage == {"annotator": {"articles": 1}}  # begin_article and article_usage reached it


def test_no_cache_reaches_the_model_every_time(models_dir: Path, tmp_path: Path) -> None:
    from mtqc.engines import select_engine
    from mtqc.engines.marian import MarianEngine

    settings = _settings(models_dir, tmp_path, use_cache=False)
    engine = select_engine("marian", settings).engine
    assert isinstance(engine, MarianEngine)
    calls: list[int] = []
    inner = engine._translate

    def count(texts: list[str], **kw: str) -> list[str]:
        calls.append(len(texts))
        return inner(texts, **kw)

    engine._translate = count  # type: ignore[method-assign]
    engine.translate(SOURCES[:2], src="en", tgt="id")
    engine.translate(SOURCES[:2], src="en", tgt="id")
    assert calls == [2, 2]
    assert not (tmp_path / "cache" / "cache.sqlite3").exists()


def test_corrupt_model_directory_gives_a_clear_error(models_dir: Path, tmp_path: Path) -> None:
    from mtqc.engines import select_engine

    (models_dir / "opus-mt-id-en" / "config.json").write_text("{ not json", encoding="utf-8")
    with pytest.raises(EngineError) as err:
        select_engine("marian", _settings(models_dir, tmp_path))
    message = str(err.value)
    assert "opus-mt-id-en" in message and "mtqc models pull opus-mt-id-en" in message
    assert "\n" not in message
    choice = select_engine("auto", _settings(models_dir, tmp_path))
    assert choice.engine.name == "offline"
    assert any("opus-mt-id-en" in note for note in choice.notes)


# --- the ct2 engine ---------------------------------------------------------------------------

def test_ct2_convert_translate_score(models_dir: Path, tmp_path: Path) -> None:
    pytest.importorskip("ctranslate2")
    from mtqc.engines import select_engine
    from mtqc.engines.ct2 import CTranslate2Engine, convert_models
    from mtqc.engines.opus import decode_cap

    settings = _settings(models_dir, tmp_path, use_cache=False)
    converted = convert_models(settings)
    assert [p.name for p in converted] == ["opus-mt-en-id-ct2-int8", "opus-mt-id-en-ct2-int8"]
    assert all((p / "model.bin").is_file() and (p / "source.spm").is_file() for p in converted)
    stamp = (converted[0] / "model.bin").stat().st_mtime_ns
    engine = select_engine("ct2", settings).engine
    assert isinstance(engine, CTranslate2Engine)
    assert (converted[0] / "model.bin").stat().st_mtime_ns == stamp  # not converted again
    seen: list[tuple[int, int, int]] = []

    class Spy:  # ctranslate2.Translator is a C++ object: wrap it to see what it was asked and gave
        def __init__(self, inner: object) -> None:
            self.inner = inner

        def translate_batch(self, batch: list[list[str]], **kw: object) -> object:
            results = self.inner.translate_batch(batch, **kw)  # type: ignore[attr-defined]
            longest_out = max(len(r.hypotheses[0]) for r in results)
            seen.append((max(len(b) for b in batch), longest_out, kw["max_decoding_length"]))  # type: ignore[misc]
            return results

        def __getattr__(self, name: str) -> object:
            return getattr(self.inner, name)

    engine._translators[("en", "id")] = Spy(engine._translators[("en", "id")])
    engine.batch_size = 2
    out = engine.translate(SOURCES, src="en", tgt="id")
    assert len(out) == len(SOURCES) and all(isinstance(t, str) for t in out) and out[2] == ""
    assert len(seen) == 2
    for in_len, out_len, cap in seen:
        assert cap == decode_cap(in_len, 512) and out_len <= cap
    scores = engine.score(SOURCES, TARGETS, src="en", tgt="id")
    for text, s in zip(TARGETS, scores):
        assert len(s.tokens) == len(s.logprobs) == len(s.spans)
        assert all(math.isfinite(v) and v <= 0 for v in s.logprobs)
        assert all(0 <= a <= b <= len(text) for a, b in s.spans[:-1])

    # a changed Marian model is converted again
    (models_dir / "opus-mt-en-id" / "generation_config.json").write_text(json.dumps({"num_beams": 1}))
    select_engine("ct2", settings)
    assert (converted[0] / "model.bin").stat().st_mtime_ns != stamp


# --- issue 8, item 21: one tokenization and scoring path ----------------------------------------

PAIRS = [  # (Indonesian source, English target), written for these tests
    ("Menteri mengatakan harga beras akan turun.", "The minister said the price of rice would fall…  “soon”."),
    ("Banjir di Bali.", "Floods ﬁlled the streets of Bali."),
    ("", ""),
]


def test_marian_and_ct2_give_the_same_tokens_spans_and_logprobs(tmp_path: Path) -> None:
    """The same tiny model under both runtimes. Its <pad> logit is raised, as a softmax that
    wrongly includes <pad> (ct2 drops it from the vocabulary) would then be off by ~1 nat."""
    pytest.importorskip("ctranslate2")
    from mtqc.engines import select_engine

    from .tiny_models import build_marian, train_spm

    models = tmp_path / "models"
    spm_model = train_spm(tmp_path / "work")
    for seed, name in enumerate(("opus-mt-en-id", "opus-mt-id-en")):
        build_marian(models / name, spm_model, seed=seed, pad_logit_bias=6.0)
    settings = _settings(models, tmp_path, use_cache=False)
    marian = select_engine("marian", settings).engine
    ct2 = select_engine("ct2", settings).engine
    sources, targets = [p[0] for p in PAIRS], [p[1] for p in PAIRS]
    a = marian.score(sources, targets, src="id", tgt="en")
    b = ct2.score(sources, targets, src="id", tgt="en")
    for text, x, y in zip(targets, a, b):
        assert x.tokens == y.tokens and x.spans == y.spans
        assert x.logprobs == pytest.approx(y.logprobs, abs=0.05)  # int8 quantisation error only (varies by CPU kernel)
        for piece, (s, e) in zip(x.tokens, x.spans):
            body = piece.lstrip("\u2581")
            if s < e and body.isalpha() and body.isascii():  # every word piece is where the text has it
                assert body in unicodedata.normalize("NFKC", text[s:e])
    assert sum(1 for t in a[0].tokens if t == ".") >= 4  # "…" and the full stop: the case that used to drift


# --- issue 8, item 20: a CUDA device that cannot run ----------------------------------------------

class _FakeTranslator:
    """Stands in for ctranslate2.Translator on a GPU (runs on the CPU); fails like missing CUDA libraries."""

    def __init__(self, real: object, path: str, *, fail: bool) -> None:
        self.fail = fail
        self.inner = real(path, device="cpu", compute_type="int8")  # type: ignore[operator]

    def translate_batch(self, *args: object, **kw: object) -> object:
        if self.fail:
            raise RuntimeError("Library libcublas.so.12 is not found or cannot be loaded")
        return self.inner.translate_batch(*args, **kw)

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)


def _fake_gpu(monkeypatch: pytest.MonkeyPatch, *, devices: int, fail: bool) -> list[tuple[str, int]]:
    ctranslate2 = pytest.importorskip("ctranslate2")
    real = ctranslate2.Translator
    made: list[tuple[str, int]] = []

    def factory(path: str, *, device: str = "cpu", device_index: int = 0, **kw: object) -> object:
        if device == "cpu":
            made.append((device, device_index))
            return real(path, device="cpu", **kw)
        made.append((device, device_index))
        return _FakeTranslator(real, path, fail=fail)

    monkeypatch.setattr(ctranslate2, "get_cuda_device_count", lambda: devices)
    monkeypatch.setattr(ctranslate2, "Translator", factory)
    return made


def test_ct2_falls_back_to_cpu_when_cuda_is_visible_but_unusable(models_dir: Path, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from mtqc.engines import select_engine

    made = _fake_gpu(monkeypatch, devices=1, fail=True)
    choice = select_engine("ct2", _settings(models_dir, tmp_path, device="auto"))
    engine = choice.engine
    assert engine.name == "ct2" and engine.inner.device == "cpu" and engine.inner.compute_type == "int8"  # type: ignore[attr-defined]
    assert ("cuda", 0) in made and made[-1] == ("cpu", 0)  # tried the GPU at load, then the CPU
    assert any("CUDA" in n or "cuda" in n for n in choice.notes) and any("libcublas" in n for n in choice.notes)
    assert len(engine.translate(["Floods in Bali."], src="en", tgt="id")) == 1  # the first translate works
    auto = select_engine("auto", _settings(models_dir, tmp_path, device="auto"))
    assert auto.engine.name == "ct2" and any("libcublas" in n for n in auto.notes)


def test_ct2_explicit_cuda_that_cannot_run_is_a_clear_error(models_dir: Path, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from mtqc.engines import select_engine

    _fake_gpu(monkeypatch, devices=2, fail=True)
    with pytest.raises(EngineError, match="--device cpu") as err:
        select_engine("ct2", _settings(models_dir, tmp_path, device="cuda:1"))
    assert "cuda:1" in str(err.value) and "\n" not in str(err.value)


def test_ct2_keeps_the_cuda_device_index(models_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mtqc.engines import select_engine

    made = _fake_gpu(monkeypatch, devices=2, fail=False)
    choice = select_engine("ct2", _settings(models_dir, tmp_path, device="cuda:1", use_cache=False))
    assert choice.engine.device == "cuda:1" and choice.notes == ()  # type: ignore[attr-defined]
    assert made and all(m == ("cuda", 1) for m in made)  # device 1, not device 0
    with pytest.raises(EngineError, match="only 2 CUDA device"):
        select_engine("ct2", _settings(models_dir, tmp_path, device="cuda:2"))


# --- issue 8, item 22: defaults live once -----------------------------------------------------------

def test_engines_take_beams_and_batch_size_from_settings(models_dir: Path, tmp_path: Path) -> None:
    from mtqc.config import DEFAULT_BATCH_SIZE, DEFAULT_BEAMS, load_settings
    from mtqc.engines.marian import MarianEngine

    assert load_settings({}).beams == DEFAULT_BEAMS and load_settings({}).batch_size == DEFAULT_BATCH_SIZE
    engine = MarianEngine(_settings(models_dir, tmp_path))
    assert (engine.num_beams, engine.batch_size) == (DEFAULT_BEAMS, DEFAULT_BATCH_SIZE)
    engine = MarianEngine(_settings(models_dir, tmp_path, beams=3, batch_size=5))
    assert (engine.num_beams, engine.batch_size) == (3, 5)


# --- spans for any text (the engines' reader of article text) ------------------------------------

@pytest.fixture(scope="module")
def target_spm(tiny_models: Path) -> object:
    spm = pytest.importorskip("sentencepiece")
    return spm.SentencePieceProcessor(model_file=str(tiny_models / "opus-mt-id-en" / "target.spm"))


def test_spans_stay_in_the_text_and_in_order_for_any_text(target_spm: object) -> None:
    from hypothesis import given, settings as hsettings, strategies as st

    from mtqc.engines.opus import encode_with_offsets

    @given(st.text(st.characters(blacklist_categories=("Cs",)), max_size=60)
           | st.lists(st.sampled_from(["…", "ﬁ", "½", "  ", "é", "e\u0301", "😀", "Bali", "“x”", "\u00a0"]),
                      max_size=12).map("".join))
    @hsettings(max_examples=150, deadline=None)
    def check(text: str) -> None:
        pieces, spans = encode_with_offsets(target_spm, text)
        assert pieces == list(target_spm.encode(text, out_type=str))  # type: ignore[attr-defined]
        assert len(spans) == len(pieces)
        ends = [0]
        for a, b in spans:
            assert 0 <= a <= b <= len(text) and a >= ends[-1] - 1  # monotone: no piece jumps back
            ends.append(b)
        assert ends == sorted(ends)

    check()


def test_spans_from_an_older_sentencepiece_proto_are_converted_from_bytes_to_characters() -> None:
    """sentencepiece before offset_mapping: the proto gives UTF-8 byte offsets."""
    from types import SimpleNamespace

    from mtqc.engines.opus import encode_with_offsets

    text = "Kata “é…” di Bali"
    words = [("\u2581Kata", "Kata"), ("\u2581“é", " “é"), (".", ""), (".", ""), (".", "…"), ("”", "”"),
             ("\u2581di", " di"), ("\u2581Bali", " Bali")]

    class OldProcessor:
        def encode(self, text_: str, out_type: object = None) -> object:
            if out_type == "offset_mapping":
                raise ValueError("Invalid return_type")
            assert out_type == "immutable_proto"
            pieces, pos, char_pos = [], 0, 0
            for piece, surface in words:
                found = text_.index(surface, char_pos) if surface else char_pos
                begin = len(text_[:found].encode("utf-8")) if surface else pos
                end = begin + len(surface.encode("utf-8"))
                pieces.append(SimpleNamespace(piece=piece, begin=begin, end=end))
                pos, char_pos = end, found + len(surface)
            return SimpleNamespace(pieces=pieces)

    pieces, spans = encode_with_offsets(OldProcessor(), text)
    assert pieces == [w[0] for w in words]
    assert [text[a:b] for a, b in spans] == [w[1] for w in words]
