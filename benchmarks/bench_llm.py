"""Seconds mtqc adds around an LLM server, and what concurrency and the cache save.

No LLM can be reached from the development machines, so this measures mtqc's side only: a
stand-in OpenAI-compatible server on 127.0.0.1 (the standard library's threaded HTTP server)
answers every chat request after a fixed `--latency` (a real model takes seconds; its own time
is not mtqc's to measure). One 25-sentence article goes through the engine's three steps
(MQM annotation, en->id, id->en): first with no latency (the client's own overhead), then with
the latency at concurrency 1 and 4 and batches of 1 and 16 sentences, then again from the cache.

    python benchmarks/bench_llm.py [--latency 0.5] [--sentences 25]
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src")]

from mtqc.neural.cache import Cache  # noqa: E402
from mtqc.config import LlmSettings  # noqa: E402
from mtqc.engines.llm import LlmEngine  # noqa: E402

LATENCY = [0.0]


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:  # quiet
        pass

    def _send(self, payload: dict) -> None:
        data = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802
        self._send({"object": "list", "data": [{"id": "bench", "object": "model", "created": 0, "owned_by": "x"}]})

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        time.sleep(LATENCY[0])
        user = body["messages"][-1]["content"]
        if "MQM" in body["messages"][0]["content"]:
            content = json.dumps({"errors": []})
        else:
            segments = re.findall(r'<segment id="\d+">(.*?)</segment>', user)
            content = "\n".join(f"[{i}] {s}" for i, s in enumerate(segments, 1))
        self._send({"id": "x", "object": "chat.completion", "created": 0, "model": "bench-served",
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                                 "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": len(user) // 4, "completion_tokens": len(content) // 4,
                              "total_tokens": (len(user) + len(content)) // 4}})


def run(url: str, texts: list[str], *, concurrency: int, batch: int, cache: Cache | None = None) -> tuple[float, int]:
    engine = LlmEngine(LlmSettings(url=url, model="bench", concurrency=concurrency), cache=cache,
                       translate_batch=batch, annotate_batch=max(batch, 40))
    start = time.perf_counter()
    engine.begin_article()
    engine.annotate(texts)
    back = engine.translate(texts, src="en", tgt="id")
    engine.translate(back, src="id", tgt="en")
    return time.perf_counter() - start, engine.article_usage()["llm"]["requests"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.5, help="seconds the stand-in server takes per request")
    parser.add_argument("--sentences", type=int, default=25)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    texts = [f"The district office opened health post number {i} on Monday, officials said." for i in range(args.sentences)]
    try:
        LATENCY[0] = 0.0
        for _ in range(2):  # the first builds the client and warms imports
            seconds, requests = run(url, texts, concurrency=4, batch=16)
        print(f"client overhead, no latency: {seconds:.3f} s for {requests} requests")
        LATENCY[0] = args.latency
        for concurrency, batch in ((1, 1), (4, 1), (1, 16), (4, 16)):
            seconds, requests = run(url, texts, concurrency=concurrency, batch=batch)
            print(f"latency {args.latency:g} s, concurrency {concurrency}, {batch:2d} sentences/request: "
                  f"{seconds:.2f} s, {requests} requests")
        with tempfile.TemporaryDirectory() as tmp:
            cache = Cache(Path(tmp) / "cache.sqlite3")
            run(url, texts, concurrency=4, batch=16, cache=cache)
            seconds, requests = run(url, texts, concurrency=4, batch=16, cache=cache)
            print(f"re-check from the cache: {seconds:.3f} s, {requests} requests")
    finally:
        server.shutdown()


if __name__ == "__main__":
    main()
