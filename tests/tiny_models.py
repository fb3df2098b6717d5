"""Tiny Marian models built at test time, in the exact on-disk layout of Helsinki-NLP/opus-mt-*.

The weights are random: tests drive the real loading, batching, scoring and caching code and
never assert translation quality.
"""
from __future__ import annotations

import json
from pathlib import Path

# A few hundred words of English and Indonesian news-like text to train a shared SentencePiece model.
CORPUS = """\
The government announced a new policy on rice prices in Jakarta on Monday.
The minister said the price of rice would fall by ten percent next month.
Farmers in West Java welcomed the decision but asked for more support.
Heavy rain caused floods in several districts and thousands of people were evacuated.
The central bank left its benchmark rate at six percent.
Police arrested three suspects after the robbery at a shop in Surabaya.
The president visited the flood victims and promised to rebuild their homes.
Tourism in Bali has recovered strongly after the pandemic, officials said.
The national football team won the match two goals to one.
Students protested outside the parliament building against the new law.
A volcano erupted on Sunday, sending ash high into the sky.
The company plans to build a new factory and hire five hundred workers.
Pemerintah mengumumkan kebijakan baru tentang harga beras di Jakarta pada hari Senin.
Menteri mengatakan harga beras akan turun sepuluh persen bulan depan.
Petani di Jawa Barat menyambut keputusan itu tetapi meminta dukungan lebih.
Hujan deras menyebabkan banjir di beberapa kabupaten dan ribuan orang dievakuasi.
Bank sentral membiarkan suku bunga acuan di angka enam persen.
Polisi menangkap tiga tersangka setelah perampokan di sebuah toko di Surabaya.
Presiden mengunjungi korban banjir dan berjanji membangun kembali rumah mereka.
Pariwisata di Bali pulih dengan kuat setelah pandemi, kata para pejabat.
Tim nasional sepak bola memenangkan pertandingan dua gol lawan satu.
Mahasiswa berunjuk rasa di luar gedung parlemen menentang undang-undang baru.
Sebuah gunung berapi meletus pada hari Minggu, mengirimkan abu tinggi ke langit.
Perusahaan berencana membangun pabrik baru dan mempekerjakan lima ratus pekerja.
"""

MARIAN_NAMES = ("opus-mt-en-id", "opus-mt-id-en")


def train_spm(workdir: Path, vocab_size: int = 160, corpus: str = CORPUS, repeat: int = 8) -> Path:
    """Train a small unigram SentencePiece model; returns the .model path."""
    import sentencepiece as spm

    workdir.mkdir(parents=True, exist_ok=True)
    text = workdir / "corpus.txt"
    text.write_text(corpus * repeat, encoding="utf-8")
    prefix = workdir / "spm"
    spm.SentencePieceTrainer.train(
        input=str(text), model_prefix=str(prefix), vocab_size=vocab_size, model_type="unigram",
        character_coverage=1.0, bos_id=-1, eos_id=1, unk_id=0, pad_id=-1,  # Marian's spm layout
        hard_vocab_limit=False, minloglevel=2, num_threads=1,
    )
    return prefix.with_suffix(".model")


def marian_vocab(spm_model: Path, pad_to: int | None = None) -> dict[str, int]:
    """vocab.json as opus-mt ships it: </s>=0, <unk>=1, the pieces, <pad> last."""
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_file=str(spm_model))
    vocab = {"</s>": 0, "<unk>": 1}
    for i in range(sp.get_piece_size()):
        piece = sp.id_to_piece(i)
        if sp.is_control(i) or sp.is_unknown(i) or piece in vocab:
            continue
        vocab[piece] = len(vocab)
    if pad_to is not None:  # filler pieces, as if the real vocabulary were this large
        while len(vocab) < pad_to - 1:
            vocab[f"\u2581filler{len(vocab)}"] = len(vocab)
    vocab["<pad>"] = len(vocab)
    return vocab


def build_marian(
    out_dir: Path,
    spm_model: Path,
    *,
    d_model: int = 16,
    layers: int = 1,
    heads: int = 2,
    ffn: int = 32,
    vocab_size: int | None = None,
    seed: int = 0,
    max_positions: int = 512,
    pad_logit_bias: float = 0.0,
) -> Path:
    """Write a random-weight MarianMTModel + MarianTokenizer files (save_pretrained layout).

    `max_positions` is the model's and the tokenizer's limit (opus-mt: 512); `pad_logit_bias`
    raises <pad>'s output logit, so that a softmax that wrongly includes <pad> shows.
    """
    import shutil

    import torch
    from transformers import GenerationConfig, MarianConfig, MarianMTModel

    vocab = marian_vocab(spm_model, pad_to=vocab_size)
    pad_id = vocab["<pad>"]
    config = MarianConfig(
        vocab_size=len(vocab), decoder_vocab_size=len(vocab), d_model=d_model,
        encoder_layers=layers, decoder_layers=layers, encoder_attention_heads=heads,
        decoder_attention_heads=heads, encoder_ffn_dim=ffn, decoder_ffn_dim=ffn,
        max_position_embeddings=max_positions, pad_token_id=pad_id, eos_token_id=0,
        decoder_start_token_id=pad_id, forced_eos_token_id=0, share_encoder_decoder_embeddings=True,
        scale_embedding=True, static_position_embeddings=True, activation_function="swish",
    )
    torch.manual_seed(seed)
    model = MarianMTModel(config).eval()
    if pad_logit_bias:
        with torch.no_grad():
            model.final_logits_bias[0, pad_id] = pad_logit_bias
    model.generation_config = GenerationConfig(
        bad_words_ids=[[pad_id]], decoder_start_token_id=pad_id, eos_token_id=0, pad_token_id=pad_id,
        forced_eos_token_id=0, max_length=max_positions, num_beams=1,
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    shutil.copyfile(spm_model, out_dir / "source.spm")
    shutil.copyfile(spm_model, out_dir / "target.spm")
    (out_dir / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False, indent=1), encoding="utf-8")
    (out_dir / "tokenizer_config.json").write_text(json.dumps({
        "tokenizer_class": "MarianTokenizer", "model_max_length": max_positions, "separate_vocabs": False,
        "eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>",
    }), encoding="utf-8")
    return out_dir


def build_tiny_models(models_dir: Path, workdir: Path, **kwargs: int) -> Path:
    """Both opus-mt directions under `models_dir`, as `mtqc models pull` would lay them out."""
    spm_model = train_spm(workdir)
    for seed, name in enumerate(MARIAN_NAMES):
        build_marian(models_dir / name, spm_model, seed=seed, **kwargs)
    return models_dir


def build_tiny_gpt2(out_dir: Path, corpus: str = CORPUS, *, seed: int = 0, n_positions: int = 256) -> Path:
    """A random-weight GPT-2 with a byte-level BPE tokenizer trained here (save_pretrained layout);
    `n_positions` is its window (distilgpt2: 1024)."""
    import torch
    from tokenizers import ByteLevelBPETokenizer
    from transformers import GPT2Config, GPT2LMHeadModel, GPT2TokenizerFast

    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(corpus.splitlines(), vocab_size=400, min_frequency=1, special_tokens=["<|endoftext|>"])
    tokenizer = GPT2TokenizerFast(tokenizer_object=bpe, bos_token="<|endoftext|>", eos_token="<|endoftext|>",
                                  unk_token="<|endoftext|>")
    config = GPT2Config(vocab_size=len(tokenizer), n_positions=n_positions, n_embd=16, n_layer=1, n_head=2,
                        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id)
    torch.manual_seed(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    GPT2LMHeadModel(config).eval().save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    return out_dir
