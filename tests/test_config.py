"""Settings: every environment variable and override is validated where it is read."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from mtqc.cli import main
from mtqc.config import load_settings
from mtqc.errors import UsageError


@pytest.mark.parametrize(
    ("variable", "value", "allowed"),
    [
        ("MTQC_BEAMS", "0", "from 1 to 16"),
        ("MTQC_BEAMS", "17", "from 1 to 16"),
        ("MTQC_BEAMS", "four", "from 1 to 16"),
        ("MTQC_THREADS", "0", "at least 1"),
        ("MTQC_THREADS", "-2", "at least 1"),
        ("MTQC_BATCH_SIZE", "0", "at least 1"),
        ("MTQC_BATCH_SIZE", "1.5", "at least 1"),
        ("MTQC_MAX_BYTES", "0", "at least 1"),
        ("MTQC_MAX_BYTES", "2MB", "at least 1"),
        ("MTQC_DEVICE", "tpu", "auto, cpu, cuda or cuda:N"),
        ("MTQC_DEVICE", "cuda:", "auto, cpu, cuda or cuda:N"),
        ("MTQC_OFFLINE", "maybe", "1, true, yes, on or 0, false, no, off"),
        ("HF_HUB_OFFLINE", "2", "1, true, yes, on or 0, false, no, off"),
    ],
)
def test_bad_environment_values_name_the_variable_value_and_what_is_allowed(variable: str, value: str,
                                                                           allowed: str) -> None:
    with pytest.raises(UsageError) as info:
        load_settings(env={variable: value})
    message = str(info.value)
    assert f"{variable}={value!r}" in message and allowed in message


def test_good_environment_values_are_read() -> None:
    s = load_settings(env={"MTQC_BEAMS": " 4 ", "MTQC_THREADS": "auto", "MTQC_BATCH_SIZE": "8", "MTQC_DEVICE": "CUDA:1",
                           "MTQC_MAX_BYTES": "1000", "MTQC_OFFLINE": "no", "HF_HUB_OFFLINE": "ON"})
    assert (s.beams, s.threads, s.batch_size, s.device, s.max_bytes, s.offline) == (4, None, 8, "cuda:1", 1000, True)
    defaults = load_settings(env={"MTQC_BEAMS": "", "MTQC_DEVICE": ""})
    assert (defaults.beams, defaults.device, defaults.offline, defaults.batch_size) == (1, "auto", False, 32)


def test_a_folder_setting_that_names_a_file_is_refused(tmp_path: Path) -> None:
    file = tmp_path / "models.txt"
    file.write_text("x", encoding="utf-8")
    with pytest.raises(UsageError, match="MTQC_MODELS_DIR=.*a folder"):
        load_settings(env={"MTQC_MODELS_DIR": str(file)})
    with pytest.raises(UsageError, match="MTQC_CACHE_DIR=.*a folder"):
        load_settings(env={"MTQC_CACHE_DIR": str(file)})


@pytest.mark.parametrize(("override", "value", "name"),
                         [("beams", 0, "--beams"), ("beams", 20, "--beams"), ("threads", 0, "--threads"),
                          ("device", "tpu", "--device"), ("batch_size", 0, "batch_size")])
def test_overrides_are_validated_too(override: str, value: object, name: str) -> None:
    with pytest.raises(UsageError, match=f"{name}={value!r}"):
        load_settings(env={}, **{override: value})


def test_cli_refuses_a_bad_setting_in_one_line_with_exit_2(tmp_path: Path) -> None:
    article = tmp_path / "a.txt"
    article.write_text("Officials said the budget for the new bridge would rise next year.\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["check", str(article), "--out", str(tmp_path)], env={"MTQC_BEAMS": "0"})
    assert result.exit_code == 2
    assert "MTQC_BEAMS='0'" in result.stderr and len(result.stderr.strip().splitlines()) == 1


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["MTQC_BEAMS", "MTQC_THREADS", "MTQC_BATCH_SIZE", "MTQC_MAX_BYTES", "MTQC_DEVICE",
                        "MTQC_OFFLINE", "HF_HUB_OFFLINE"]),
       st.one_of(st.text(max_size=8), st.integers(-5, 40).map(str)))
def test_any_value_is_read_into_range_or_refused(variable: str, value: str) -> None:
    try:
        s = load_settings(env={variable: value})
    except UsageError as exc:
        assert variable in str(exc)
        return
    assert 1 <= s.beams <= 16 and s.batch_size >= 1 and s.max_bytes >= 1 and (s.threads is None or s.threads >= 1)
    assert s.device == "auto" or s.device in ("cpu", "cuda") or s.device.startswith("cuda:")


def test_device_option_takes_a_gpu_number_and_refuses_nonsense_in_one_line(tmp_path: Path) -> None:
    assert load_settings(env={}, device="CUDA:1").device == "cuda:1"
    article = tmp_path / "a.txt"
    article.write_text("Officials said the budget for the new bridge would rise next year.\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["check", str(article), "--out", str(tmp_path), "--device", "cuda:x"])
    assert result.exit_code == 2
    assert "--device='cuda:x'" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_the_hugging_face_cache_is_found_as_huggingface_hub_finds_it(tmp_path: Path) -> None:
    assert load_settings(env={"HF_HUB_CACHE": str(tmp_path / "a")}).hf_cache_dir == tmp_path / "a"
    assert load_settings(env={"HUGGINGFACE_HUB_CACHE": str(tmp_path / "b")}).hf_cache_dir == tmp_path / "b"
    assert load_settings(env={"HF_HOME": str(tmp_path / "h")}).hf_cache_dir == tmp_path / "h" / "hub"
    assert load_settings(env={"XDG_CACHE_HOME": str(tmp_path / "x")}).hf_cache_dir == tmp_path / "x" / "huggingface" / "hub"
    assert load_settings(env={}).hf_endpoint == "https://huggingface.co"
    assert load_settings(env={"HF_ENDPOINT": "http://mirror:8080"}).hf_endpoint == "http://mirror:8080"
