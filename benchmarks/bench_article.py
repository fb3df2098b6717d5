"""End-to-end seconds for one 25-sentence article through the full Checker with neural engines.

Models have the exact shape of the real ones (opus-mt: 6+6 layers, d_model 512, vocab 54k;
distilgpt2: 6 layers, d_model 768, vocab 50257) with random weights, so compute is the same as
the real models'. Random weights never emit end-of-sentence and emit arbitrary pieces of the 54k
vocabulary, so two things are made realistic by default: every output is capped at the input
length (about what real en<->id opus-mt output measures), and the Indonesian fed back into the
id->en model is real Indonesian of the same length (random weights' "Indonesian" is a string of
rare pieces that tokenizes several times longer). Pass `--engine-cap` for the raw upper bound.

    python benchmarks/bench_article.py [--engine ct2|marian] [--beams 1] [--engine-cap]
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from tests.tiny_models import CORPUS, build_marian, train_spm  # noqa: E402

SENTENCES = [line for line in CORPUS.splitlines()[:12] if line]
INDONESIAN = [line for line in CORPUS.splitlines()[12:24] if line]


def article(n: int = 25) -> str:
    # The test spm is nearly character-level (2.6 pieces per word), so a 12-word corpus sentence
    # is ~32 pieces: the ~35-token sentences of the brief. Numbering keeps the 25 sentences distinct.
    return "\n\n".join(f"{SENTENCES[i % 12][:-1]} ({i + 1})." for i in range(n))


def indonesian_like(texts: list[str]) -> list[str]:
    """Real Indonesian sentences, one per input, of the same kind as the English ones."""
    return [f"{INDONESIAN[i % 12][:-1]} ({i + 1})." for i in range(len(texts))]


def realistic(engine):  # type: ignore[no-untyped-def]
    """Wrap an engine so that what goes into id->en is real Indonesian (see module docstring)."""
    from mtqc.engines.base import Engine

    class Realistic(Engine):
        name = engine.name

        def _translate(self, texts, *, src, tgt):  # type: ignore[no-untyped-def]
            return engine.translate(indonesian_like(texts) if src == "id" else texts, src=src, tgt=tgt)

        def _score(self, sources, targets, *, src, tgt):  # type: ignore[no-untyped-def]
            return engine.score(indonesian_like(sources) if src == "id" else sources, targets, src=src, tgt=tgt)

        @property
        def models(self):  # type: ignore[no-untyped-def]
            return engine.models

    return Realistic()


def build_distilgpt2_shape(out: Path) -> None:
    import torch
    from tokenizers import ByteLevelBPETokenizer
    from transformers import GPT2Config, GPT2LMHeadModel, GPT2TokenizerFast

    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(CORPUS.splitlines(), vocab_size=2000, min_frequency=1, special_tokens=["<|endoftext|>"])
    tok = GPT2TokenizerFast(tokenizer_object=bpe, bos_token="<|endoftext|>", eos_token="<|endoftext|>")
    torch.manual_seed(0)
    GPT2LMHeadModel(GPT2Config(vocab_size=50257, n_layer=6, n_embd=768, n_head=12)).save_pretrained(out)
    tok.save_pretrained(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--engine", default="ct2", choices=["ct2", "marian"])
    ap.add_argument("--beams", type=int, default=1)
    ap.add_argument("--engine-cap", action="store_true")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--batch-size", type=int, default=32)
    args = ap.parse_args()

    from mtqc.config import Settings
    from mtqc.engines import opus as opus_module  # both engines decode through opus.decode_cap
    from mtqc.ingest import article_from_text
    from mtqc.pipeline import CheckerConfig

    if not args.engine_cap:
        opus_module.decode_cap = lambda n, limit=512: max(1, min(n, limit))  # type: ignore[assignment]

    work = Path(tempfile.mkdtemp(prefix="mtqc-bench-"))
    models = work / "models"
    spm = train_spm(work / "spm", vocab_size=2000)
    for seed, name in enumerate(("opus-mt-en-id", "opus-mt-id-en")):
        build_marian(models / name, spm, d_model=512, layers=6, heads=8, ffn=2048, vocab_size=54000, seed=seed)
    build_distilgpt2_shape(models / "distilgpt2")
    text = article()
    settings = Settings(models_dir=models, cache_dir=work / "cache", offline=True, device="cpu",
                        threads=args.threads, beams=args.beams, batch_size=args.batch_size)

    t = time.perf_counter()
    checker = CheckerConfig(settings, engine=args.engine).build()
    if not args.engine_cap:
        from mtqc.engines import EngineChoice

        from dataclasses import replace

        checker = replace(checker, engine_choice=EngineChoice(realistic(checker.engine_choice.engine),
                                                               checker.engine_choice.notes))
    checker.check_article(article_from_text("The minister spoke on Monday.", "warmup"))  # load every model once
    load = time.perf_counter() - t

    t = time.perf_counter()
    report = checker.check_article(article_from_text(text, "bench.txt"))
    cold = time.perf_counter() - t
    t = time.perf_counter()
    checker.check_article(article_from_text(text, "bench.txt"))
    cached = time.perf_counter() - t
    n = sum(1 for s in report.sentences if s.scored)
    import sentencepiece

    sp = sentencepiece.SentencePieceProcessor(model_file=str(spm))
    tokens = sum(len(sp.encode(s.text)) for s in report.sentences if s.scored) / max(1, n)
    cap = "engine cap (upper bound)" if args.engine_cap else "outputs capped at input length"
    print(f"engine {args.engine}, beams {args.beams}, {n} sentences of {tokens:.0f} tokens on average, {cap}")
    print(f"  load + warm-up:          {load:6.2f} s")
    print(f"  article, warm models:    {cold:6.2f} s  (back-translate both ways, score, all signals)")
    print(f"  article, cached re-check:{cached:6.2f} s")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
