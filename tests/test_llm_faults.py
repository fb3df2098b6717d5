"""The LLM engine under a misbehaving server: faults never cost a result, a secret or a file.

Every server here is on 127.0.0.1: the scripted chat model of test_llm_engine, or a bare
socket. Time limits are kept to a few seconds; a test asserts which limit ended a request (its
message), never how long it took.
"""
from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

pytest.importorskip("openai", reason="the llm engine's client is an optional extra: pip install 'mtqc[llm]'")
pytest.importorskip("pytest_httpserver", reason="the fake LLM server needs pytest-httpserver (the test extra)")

from click.testing import CliRunner  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st
from pytest_httpserver import HTTPServer  # noqa: E402
from werkzeug import Request, Response  # noqa: E402

from mtqc.cli import main  # noqa: E402
from mtqc.config import LlmSettings  # noqa: E402
from mtqc.engines import llm as llm_module  # noqa: E402
from mtqc.engines.llm import (  # noqa: E402
    MAX_TOKENS,
    ChatReply,
    LlmEngine,
    UnreadableReply,
    decode_json,
    read_chat_reply,
    read_model_list,
    token_count,
)
from mtqc.errors import LlmError, TransientEngineError  # noqa: E402
from mtqc.pipeline import CheckerConfig  # noqa: E402

from . import test_llm_engine as base  # noqa: E402
from .helpers import check_text  # noqa: E402
from .test_llm_engine import (  # noqa: E402
    ARTICLE,
    KEY,
    MODEL,
    FakeLLM,
    completion,
    engine,
    errors,
    llm_settings,
    media_crew_error,
)

# the fake server and the clean environment of test_llm_engine (pytest finds fixtures by name here)
_no_llm_environment = base._no_llm_environment
_running_server = base._running_server
server = base.server


class EchoingLLM(FakeLLM):
    """The scripted model, with each successful reply's JSON changed by `edit` (e.g. to echo the key)."""

    def __init__(self, server: HTTPServer, edit: Any, **kw: Any) -> None:
        super().__init__(server, **kw)
        self.edit = edit

    def handle(self, request: Request) -> Response:
        response = super().handle(request)
        if response.status_code == 200:
            body = json.loads(response.get_data())
            response.set_data(json.dumps(self.edit(body)))
        return response


def run_cli(url: str, tmp_path: Path, *extra: str) -> Any:
    article = tmp_path / "a.txt"
    article.write_text(ARTICLE, encoding="utf-8")
    env = {"MTQC_LLM_API_KEY": KEY, "MTQC_OFFLINE": "1", "MTQC_MODELS_DIR": str(tmp_path / "models"),
           "MTQC_CACHE_DIR": str(tmp_path / "cache")}
    return CliRunner().invoke(main, ["check", str(article), "--out", str(tmp_path / "r"), "--engine", "llm",
                                     "--llm-url", url, *extra], env=env)


def files_text(folder: Path) -> str:
    return "".join(p.read_text(encoding="utf-8", errors="replace") for p in folder.rglob("*") if p.is_file())


# --- 1. transient failures are typed ------------------------------------------------------------

@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_server_errors_and_rate_limits_are_transient(server: HTTPServer, status: int) -> None:
    fake = FakeLLM(server, faults=[(status, {"Retry-After": "0"})] * 2, max_requests=2)
    llm = engine(fake, max_retries=1)
    with pytest.raises(TransientEngineError, match=f"HTTP {status}") as info:
        llm.translate(["Rain fell."], src="en", tgt="id")
    assert not isinstance(info.value, LlmError)  # a batch records it as retryable
    message = str(info.value)
    assert fake.url in message and KEY not in message and "\n" not in message


def test_a_timeout_and_a_spent_budget_are_transient(server: HTTPServer) -> None:
    fake = FakeLLM(server, delay=1.0, max_requests=4)
    with pytest.raises(TransientEngineError, match="did not answer within 0.3 s"):
        engine(fake, timeout=0.3, max_retries=0).translate(["Rain fell."], src="en", tgt="id")
    llm = engine(fake, timeout=5, budget=0.4, max_retries=0)
    llm.begin_article()
    with pytest.raises(TransientEngineError, match="budget of 0.4 s") as info:
        llm.translate(["Rain fell."], src="en", tgt="id")
    assert fake.url in str(info.value)  # every failure names the server (without credentials)


def test_a_refused_key_and_an_unknown_model_stay_permanent(server: HTTPServer) -> None:
    fake = FakeLLM(server, max_requests=1)
    with pytest.raises(LlmError, match="has no model") as info:
        LlmEngine(LlmSettings(url=fake.url, model="no-such-model", api_key=KEY), max_retries=0)
    assert not isinstance(info.value, TransientEngineError)
    server.clear()
    server.expect_request("/v1/models").respond_with_json({"error": {"message": "no"}}, status=401)
    with pytest.raises(LlmError, match="refused the API key"):
        LlmEngine(LlmSettings(url=server.url_for("/v1"), model=MODEL, api_key=KEY), max_retries=0)


# --- 2. the API key never leaks ------------------------------------------------------------------

def test_a_server_that_echoes_the_key_everywhere_leaves_it_nowhere(server: HTTPServer, tmp_path: Path) -> None:
    def echo(body: dict[str, Any]) -> dict[str, Any]:
        return {**body, "model": f"proxy/{KEY}/fake-model"}  # the served id goes into the signature

    leak = {**media_crew_error(), "correction": f"reporters {KEY}", "explanation": f"the key is {KEY}"}
    fake = EchoingLLM(server, echo, annotate=errors(leak), max_requests=6)
    result = run_cli(fake.url, tmp_path, "--llm-model", MODEL)
    assert result.exit_code in (0, 1), result.output
    assert KEY not in result.output
    written = files_text(tmp_path / "r")
    assert written and KEY not in written and "proxy/***/fake-model" in written

    report = check_text(CheckerConfig(llm_settings(fake, tmp_path), engine="llm", calibrated=False).build(), ARTICLE)
    assert KEY not in json.dumps(report.to_dict()) and KEY not in str(report.signature)
    assert [f.suggestion for f in report.flags if f.signal == "llm_mqm"] == ["reporters ***"]


def test_an_error_body_that_echoes_the_key_is_scrubbed(server: HTTPServer) -> None:
    server.expect_request("/v1/models").respond_with_json({"data": [{"id": MODEL}]})
    server.expect_request("/v1/chat/completions").respond_with_json(
        {"error": {"message": f"upstream said: bad token {KEY}"}}, status=500)
    llm = LlmEngine(LlmSettings(url=server.url_for("/v1"), model=MODEL, api_key=KEY), max_retries=0)
    with pytest.raises(TransientEngineError, match="HTTP 500") as info:
        llm.translate(["Rain fell."], src="en", tgt="id")
    assert KEY not in str(info.value) and KEY not in repr(info.value) and "***" in str(info.value)


def test_a_model_named_like_the_key_is_never_chosen(server: HTTPServer, tmp_path: Path) -> None:
    server.expect_request("/v1/models").respond_with_json({"data": [{"id": f"echo-{KEY}"}]})
    chats: list[Request] = []  # not the server's log: a slow request of an earlier test may land there
    server.expect_request("/v1/chat/completions").respond_with_handler(
        lambda request: chats.append(request) or Response("{}", content_type="application/json"))
    with pytest.raises(LlmError, match="lists a model named like the API key") as info:
        LlmEngine(LlmSettings(url=server.url_for("/v1"), api_key=KEY), max_retries=0)
    assert KEY not in str(info.value)
    result = run_cli(server.url_for("/v1"), tmp_path)
    assert result.exit_code == 2 and "named like the API key" in result.output and KEY not in result.output
    assert not chats  # refused before any request carried the key's look-alike as a model


# --- 3. time limits are enforced -----------------------------------------------------------------

def test_a_trickling_reply_is_cut_at_the_total_timeout(server: HTTPServer) -> None:
    body = json.dumps(completion("[1] ID Rain fell.")).encode()

    def trickle(request: Request) -> Response:
        def chunks() -> Iterator[bytes]:
            for i in range(len(body)):  # one byte every 0.5 s: each read is quick, the reply endless
                time.sleep(0.5)
                yield body[i:i + 1]
        return Response(chunks(), content_type="application/json", headers={"Content-Length": str(len(body))},
                        direct_passthrough=True)

    server.expect_request("/v1/models").respond_with_json({"data": [{"id": MODEL}]})
    server.expect_request("/v1/chat/completions").respond_with_handler(trickle)
    llm = LlmEngine(LlmSettings(url=server.url_for("/v1"), model=MODEL, api_key=KEY, timeout=1.5), max_retries=0)
    with pytest.raises(TransientEngineError, match="did not answer within 1.5 s"):
        llm.translate(["Rain fell."], src="en", tgt="id")


def test_a_long_retry_after_ends_within_the_budget(server: HTTPServer) -> None:
    fake = FakeLLM(server, faults=[(429, {"Retry-After": "20"})] * 3, max_requests=3)
    llm = engine(fake, budget=2, max_retries=3)
    llm.begin_article()
    with pytest.raises(TransientEngineError, match="asked to wait 20 s"):
        llm.translate(["Rain fell."], src="en", tgt="id")


def test_retries_and_their_backoff_count_against_the_budget(server: HTTPServer) -> None:
    fake = FakeLLM(server, faults=[(503, {})] * 20, delay=0.2, max_requests=20)
    llm = engine(fake, budget=2, max_retries=10)
    llm.begin_article()
    with pytest.raises(TransientEngineError, match="budget|asked to wait"):
        llm.translate(["Rain fell."], src="en", tgt="id")


def test_the_budget_cuts_a_request_in_flight(server: HTTPServer) -> None:
    fake = FakeLLM(server, delay=4.0, max_requests=2)
    llm = engine(fake, timeout=30, budget=1, max_retries=3)
    llm.begin_article()
    with pytest.raises(TransientEngineError, match="budget of 1 s"):
        llm.translate(["Rain fell."], src="en", tgt="id")
    assert len(fake.bodies) == 1  # cut in flight, not retried past the budget


# --- 4. malformed "200 OK" replies -----------------------------------------------------------------

@pytest.mark.parametrize("listing", ["[]", '{"data": "x"}', "<html><body>Welcome to nginx</body></html>"])
def test_a_malformed_model_list_is_one_line_exit_2(server: HTTPServer, tmp_path: Path, listing: str) -> None:
    server.expect_request("/v1/models").respond_with_data(listing, content_type="application/json")
    with pytest.raises(LlmError, match="answered the model list with"):
        LlmEngine(LlmSettings(url=server.url_for("/v1"), model=MODEL, api_key=KEY), max_retries=0)
    result = run_cli(server.url_for("/v1"), tmp_path, "--llm-model", MODEL)
    assert result.exit_code == 2, result.output
    assert "model list" in result.output and "internal error" not in result.output
    assert result.output.strip().count("\n") == 0


MALFORMED_CHAT = ["<!DOCTYPE html><html>502 Bad Gateway</html>", '{"choices": "x"}',
                  json.dumps({"choices": [{"message": None}]}),
                  json.dumps({"choices": [{"message": {"role": "assistant", "content": 42}}]})]


@pytest.mark.parametrize("reply", MALFORMED_CHAT)
def test_a_malformed_chat_reply_is_one_line_or_a_counted_unreadable_reply(server: HTTPServer, reply: str) -> None:
    server.expect_request("/v1/models").respond_with_json({"data": [{"id": MODEL}]})
    server.expect_request("/v1/chat/completions").respond_with_data(reply, content_type="application/json")
    llm = LlmEngine(LlmSettings(url=server.url_for("/v1"), model=MODEL, api_key=KEY), max_retries=0)
    with pytest.raises(LlmError, match="answered a chat request with") as info:
        llm.translate(["Rain fell."], src="en", tgt="id")
    assert "\n" not in str(info.value)
    llm.begin_article()
    out = llm.annotate(["Rain fell.", "The media crew came."])
    assert all(a.malformed and not a.errors for a in out)
    assert llm.article_usage()["llm"]["malformed_replies"] == 1


def test_a_malformed_chat_reply_through_the_cli_exits_2(server: HTTPServer, tmp_path: Path) -> None:
    server.expect_request("/v1/models").respond_with_json({"data": [{"id": MODEL}]})
    server.expect_request("/v1/chat/completions").respond_with_data('{"choices": "x"}', content_type="application/json")
    result = run_cli(server.url_for("/v1"), tmp_path, "--llm-model", MODEL)
    assert result.exit_code == 2, result.output
    assert "answered a chat request with" in result.output and "internal error" not in result.output


@pytest.mark.parametrize("bad", ["12abc", -5, 1.5, 1e300, 10**12, None, True])
def test_implausible_usage_is_unknown_not_priced(server: HTTPServer, bad: Any) -> None:
    def edit(body: dict[str, Any]) -> dict[str, Any]:
        return {**body, "usage": {"prompt_tokens": bad, "completion_tokens": 20}}

    fake = EchoingLLM(server, edit, max_requests=1)
    llm = LlmEngine(LlmSettings(url=fake.url, model=MODEL, api_key=KEY, price=(1.0, 4.0)), max_retries=0)
    llm.begin_article()
    assert llm.translate(["Rain fell."], src="en", tgt="id") == ["ID Rain fell."]
    usage = llm.article_usage()["llm"]
    assert (usage["prompt_tokens"], usage["completion_tokens"], usage["unknown_usage"]) == (0, 20, 1)
    assert usage["cost_usd"] == pytest.approx(20 * 4.0 / 1e6)


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                    max_leaves=12)
LEAF = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5) | st.just([]) | st.just({})


@st.composite
def chat_bodies(draw: st.DrawFn) -> Any:
    """Bodies close to a chat completion, any part of them replaced by something else."""
    message = draw(st.one_of(LEAF, st.fixed_dictionaries({"content": LEAF}, optional={"role": LEAF})))
    choice = draw(st.one_of(LEAF, st.fixed_dictionaries({}, optional={"message": st.just(message)})))
    usage = draw(st.one_of(LEAF, st.fixed_dictionaries({}, optional={"prompt_tokens": LEAF, "completion_tokens": LEAF})))
    return draw(st.one_of(JSON, st.fixed_dictionaries({}, optional={
        "choices": st.one_of(LEAF, st.lists(st.just(choice), max_size=2)), "model": LEAF, "usage": st.just(usage)})))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(chat_bodies())
def test_any_decoded_body_is_a_reply_or_an_unreadable_reply(body: Any) -> None:
    try:
        reply = read_chat_reply(body)
    except UnreadableReply as exc:
        assert "\n" not in str(exc)
        return
    assert isinstance(reply, ChatReply) and isinstance(reply.text, str)
    for count in (reply.prompt_tokens, reply.completion_tokens):
        assert count is None or (type(count) is int and 0 <= count <= MAX_TOKENS)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=64) | JSON.map(lambda v: json.dumps(v).encode()))
def test_any_body_decodes_or_is_an_unreadable_reply(raw: bytes) -> None:
    try:
        body = decode_json(raw)
    except UnreadableReply:
        return
    for reader in (read_chat_reply, read_model_list):
        try:
            reader(body)
        except UnreadableReply:
            pass


def test_token_counts_are_plain_bounded_integers() -> None:
    assert [token_count(v) for v in (0, 12, MAX_TOKENS)] == [0, 12, MAX_TOKENS]
    assert all(token_count(v) is None for v in ("12", "12abc", -1, 1.0, 1e300, MAX_TOKENS + 1, True, None))


# --- 5. a server that accepts but never answers at start-up --------------------------------------

def test_a_silent_server_at_start_up_is_named_with_the_probe_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(llm_module, "PROBE_TIMEOUT", 1.0)
    with socket.socket() as listener:  # the kernel accepts connections; nobody ever reads or answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        port = listener.getsockname()[1]
        with pytest.raises(TransientEngineError) as info:
            LlmEngine(LlmSettings(url=f"http://127.0.0.1:{port}/v1", model=MODEL, api_key=KEY, timeout=30, budget=2))
    assert str(info.value).startswith(f"the LLM server at http://127.0.0.1:{port}/v1 did not answer at start-up "
                                      "within 1 s")
    assert "budget" not in str(info.value)


def test_a_server_trickling_its_headers_is_cut_at_the_timeout() -> None:
    # the status line at once, then one header byte every 0.3 s: no single read ever waits long
    stop = threading.Event()

    def serve(listener: socket.socket) -> None:
        listener.settimeout(5)
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        with conn:
            conn.recv(65536)
            try:
                conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
                for _ in range(40):
                    if stop.wait(0.3):
                        return
                    conn.sendall(b"a")
            except OSError:
                return  # the client hung up, as it should

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        port = listener.getsockname()[1]
        thread = threading.Thread(target=serve, args=(listener,), daemon=True)
        thread.start()
        try:
            with pytest.raises(TransientEngineError, match="did not answer at start-up within 1.5 s"):
                LlmEngine(LlmSettings(url=f"http://127.0.0.1:{port}/v1", model=MODEL, api_key=KEY, timeout=1.5))
        finally:
            stop.set()
            thread.join(5)


# --- a batch that met a failing server checks those articles again on the next run ----------------

def test_a_batch_retries_next_run_what_a_failing_server_left_unchecked(server: HTTPServer, tmp_path: Path) -> None:
    fake = FakeLLM(server, faults=[(500, {"Retry-After": "0"})] * 50, max_requests=200)
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text(ARTICLE, encoding="utf-8")
    out = tmp_path / "out"
    env = {"MTQC_LLM_API_KEY": KEY, "MTQC_OFFLINE": "1", "MTQC_MODELS_DIR": str(tmp_path / "models"),
           "MTQC_CACHE_DIR": str(tmp_path / "cache")}
    args = ["batch", str(folder), "--out", str(out), "--engine", "llm", "--llm-url", fake.url,
            "--llm-model", MODEL, "--llm-budget", "3"]
    first = CliRunner().invoke(main, args, env=env)
    assert first.exit_code == 2 and "failed:" in first.stderr and "a.txt" in first.stderr
    record = json.loads((out / "summary.json").read_text(encoding="utf-8"))["articles"][0]
    assert record["error_kind"] == "engine"  # not "input": nothing was wrong with the article
    fake.faults.clear()  # the server has recovered
    asked = len(fake.bodies)
    second = CliRunner().invoke(main, args, env=env)
    assert second.exit_code == 0 and "checked 1 of 1" in second.stdout
    assert len(fake.bodies) > asked  # the article was checked again, without --force


# --- replies in a near-miss format, and enormous replies, from a loopback server --------------------

class DotNumberingLLM(FakeLLM):
    """A model that numbers its translations '1. text', as many do, not '[1] text'."""

    def reply(self, body: dict[str, Any]) -> str:
        text = super().reply(body)
        if "translator" in body["messages"][0]["content"]:
            return "\n".join(line.replace(f"[{n}] ", f"{n}. ", 1) for n, line in enumerate(text.splitlines(), 1))
        return text


def test_a_server_numbering_with_dots_is_read_in_one_request_per_batch(server: HTTPServer, tmp_path: Path) -> None:
    fake = DotNumberingLLM(server, max_requests=10)
    checker = CheckerConfig(llm_settings(fake, tmp_path), engine="llm", calibrated=False).build()
    report = check_text(checker, ARTICLE)
    scored = [s for s in report.sentences if s.scored]
    assert all(s.backtranslation and s.backtranslation.startswith("ID ") for s in scored)  # no "1. " kept
    assert all(s.roundtrip and not s.roundtrip[:3].rstrip().rstrip(".").isdigit() for s in scored)
    translations = [b for b in fake.bodies if "translator" in b["messages"][0]["content"]]
    assert len(translations) == 2  # one request each way, not one per sentence


def test_an_enormous_annotation_reply_is_capped_and_counted(server: HTTPServer, tmp_path: Path) -> None:
    flood = [media_crew_error()] + [{"sentence": 2, "span": f"w{n}", "category": "fluency", "severity": "minor"}
                                    for n in range(20_000)]
    fake = FakeLLM(server, annotate=errors(*flood), max_requests=10)
    checker = CheckerConfig(llm_settings(fake, tmp_path), engine="llm", calibrated=False).build()
    report = check_text(checker, ARTICLE)
    usage = report.to_dict()["usage"]["llm"]
    assert usage["dropped_spans"] >= 20_000 - 400  # past the cap (pinned exactly in test_llm_prompts) or unplaceable: counted
    assert [f.suggestion for f in report.flags if f.signal == "llm_mqm"] == ["reporters"]


def test_a_placeholder_key_is_not_blanked_out_of_the_text(server: HTTPServer, tmp_path: Path) -> None:
    # local servers take any key: "x" is no secret, and blanking it would turn "examination" into "e***amination"
    error = {"sentence": 1, "span": "examination", "category": "accuracy/mistranslation", "severity": "minor",
             "correction": "exam"}
    fake = FakeLLM(server, annotate=errors(error), max_requests=10)
    settings = llm_settings(fake, tmp_path)
    settings = settings.__class__(**{**settings.__dict__, "llm": LlmSettings(url=fake.url, model=MODEL, api_key="x")})
    checker = CheckerConfig(settings, engine="llm", calibrated=False).build()
    report = check_text(checker, "The examination of the bridge ended on Monday. Engineers found no damage.")
    flags = [f for f in report.flags if f.signal == "llm_mqm"]
    assert [(report.sentences[0].text[f.span[0]:f.span[1]], f.suggestion) for f in flags] == [("examination", "exam")]
