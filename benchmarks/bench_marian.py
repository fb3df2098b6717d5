"""Throughput of the neural back-translation engines on a model of opus-mt's exact shape.

The weights are random (no network here), so the model never chooses to stop: output length is
pinned (min = max new tokens) for the throughput rows, and in the end-to-end rows every
translation runs to the decoding cap (1.5 x input + 10 tokens), which is longer than a real
opus-mt output: the end-to-end numbers are an upper bound.

    python benchmarks/bench_marian.py [--sentences 64] [--tokens 35] [--out-tokens 35]
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

from tests.tiny_models import CORPUS, build_marian, marian_vocab, train_spm  # noqa: E402

OPUS_SHAPE = dict(d_model=512, layers=6, heads=8, ffn=2048, vocab_size=54000)

ARTICLE = CORPUS.splitlines()[:12]  # the English half of the corpus


def article_sentences(n: int = 25) -> list[str]:
    """n English sentences of news length (two corpus lines joined, ~25-35 words)."""
    return [f"{ARTICLE[i % len(ARTICLE)]} {ARTICLE[(i * 5 + 3) % len(ARTICLE)]}".replace(".", ",", 1) for i in range(n)]


def timed(fn, repeat: int = 1) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sentences", type=int, default=64)
    ap.add_argument("--tokens", type=int, default=35, help="input tokens per sentence")
    ap.add_argument("--out-tokens", type=int, default=35, help="pinned output tokens per sentence")
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--keep", type=Path, default=None, help="build the model here and keep it")
    args = ap.parse_args()

    import torch
    from transformers import MarianMTModel
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    if args.threads:
        torch.set_num_threads(args.threads)
    work = args.keep or Path(tempfile.mkdtemp(prefix="mtqc-bench-"))
    models = work / "models"
    rows: list[tuple[str, str]] = []
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} CPUs")

    t = time.perf_counter()
    spm_model = train_spm(work / "spm", vocab_size=1200)
    for seed, name in enumerate(("opus-mt-en-id", "opus-mt-id-en")):
        if not (models / name / "config.json").is_file():
            build_marian(models / name, spm_model, seed=seed, **OPUS_SHAPE)
    print(f"built two random opus-mt-shaped models in {time.perf_counter() - t:.1f}s "
          f"({sum(f.stat().st_size for f in (models / 'opus-mt-en-id').iterdir()) / 1e6:.0f} MB each)")

    vocab = marian_vocab(spm_model, pad_to=OPUS_SHAPE["vocab_size"])
    real_pieces = [p for p in vocab if p not in ("</s>", "<unk>", "<pad>") and not p.startswith("\u2581filler")]
    g = torch.Generator().manual_seed(0)
    picks = torch.randint(0, len(real_pieces), (args.sentences, args.tokens), generator=g).tolist()
    token_rows = [[real_pieces[i] for i in row] for row in picks]
    id_rows = [[vocab[p] for p in row] + [vocab["</s>"]] for row in token_rows]
    n, out_n = args.sentences, args.out_tokens

    # --- transformers ---------------------------------------------------------------------------
    model = MarianMTModel.from_pretrained(str(models / "opus-mt-en-id")).eval()

    def hf_generate(rows: list[list[int]]) -> None:
        ids = torch.tensor(rows)
        with torch.inference_mode():
            out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), num_beams=1, do_sample=False,
                                 min_new_tokens=out_n, max_new_tokens=out_n, max_length=None)
        assert out.shape[1] == out_n + 1, out.shape

    hf_generate(id_rows[:2])  # warm-up
    n_single = min(n, 16)
    secs = timed(lambda: [hf_generate([r]) for r in id_rows[:n_single]])
    rows.append(("transformers fp32, one sentence at a time", f"{n_single / secs:6.2f} sent/s"))
    bs = args.batch_size
    secs = timed(lambda: [hf_generate(id_rows[i:i + bs]) for i in range(0, n, bs)])
    rows.append((f"transformers fp32, batched ({bs})", f"{n / secs:6.2f} sent/s"))

    # --- ctranslate2 ----------------------------------------------------------------------------
    try:
        import ctranslate2
    except ImportError:
        ctranslate2 = None
    if ctranslate2 is not None:
        from mtqc.config import Settings
        from mtqc.engines.ct2 import convert_model
        from mtqc.neural.manifest import ct2_dir, locate_model

        settings = Settings(models_dir=models, cache_dir=work / "cache", offline=True, threads=args.threads)
        shutil.rmtree(ct2_dir("opus-mt-en-id", settings), ignore_errors=True)
        resolved = locate_model("opus-mt-en-id", settings)
        secs = timed(lambda: convert_model(resolved, ct2_dir("opus-mt-en-id", settings)))
        rows.append(("ct2 int8 conversion (one model, once)", f"{secs:6.1f} s"))
        translator = ctranslate2.Translator(str(ct2_dir("opus-mt-en-id", settings)), device="cpu",
                                            compute_type="int8", intra_threads=args.threads or 0)
        batch = [r + ["</s>"] for r in token_rows]

        def ct2_translate(b: list[list[str]], size: int) -> None:
            res = translator.translate_batch(b, max_batch_size=size, beam_size=1, min_decoding_length=out_n,
                                             max_decoding_length=out_n)
            assert len(res[0].hypotheses[0]) == out_n, len(res[0].hypotheses[0])

        ct2_translate(batch[:2], 2)
        secs = timed(lambda: [ct2_translate([b], 1) for b in batch[:n_single]])
        rows.append(("ct2 int8, one sentence at a time", f"{n_single / secs:6.2f} sent/s"))
        secs = timed(lambda: ct2_translate(batch, bs))
        rows.append((f"ct2 int8, batched ({bs})", f"{n / secs:6.2f} sent/s"))
    del model

    # --- end to end: a 25-sentence article, both directions + scoring --------------------------
    from mtqc.config import Settings

    article = article_sentences(25)
    for engine_name in ("marian", "ct2") if ctranslate2 is not None else ("marian",):
        for beams in (1, 4):
            cache_dir = work / f"cache-{engine_name}-{beams}"
            shutil.rmtree(cache_dir, ignore_errors=True)
            settings = Settings(models_dir=models, cache_dir=cache_dir, offline=True, threads=args.threads)
            t = time.perf_counter()
            from mtqc.engines.cached import with_cache
            from mtqc.engines.ct2 import create_ct2_engine
            from mtqc.engines.marian import create_marian_engine
            factory = create_marian_engine if engine_name == "marian" else create_ct2_engine
            engine = with_cache(factory(settings, num_beams=beams), settings)  # as select_engine applies it
            load = time.perf_counter() - t

            def run() -> None:
                bt = engine.translate(article, src="en", tgt="id")
                rt = engine.translate(bt, src="id", tgt="en")
                engine.score(bt, article, src="id", tgt="en")
                engine.score(article, bt, src="en", tgt="id")
                assert len(rt) == len(article)

            cold = timed(run)
            cached = timed(run)
            rows.append((f"article (25 sent.) {engine_name} beams={beams}: load / cold / cached",
                         f"{load:5.1f} / {cold:5.1f} / {cached:5.3f} s"))

    width = max(len(r[0]) for r in rows)
    print(f"\n{args.sentences} sentences x {args.tokens} tokens in, {out_n} out (pinned), greedy\n")
    for label, value in rows:
        print(f"{label:<{width}}  {value}")
    if args.keep is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
