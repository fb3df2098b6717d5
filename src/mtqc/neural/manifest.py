"""Model management: the manifest, finding a model on disk, pulling it, and what is present.

Resolution order for a model NAME (see `locate_model`):

1. `<models_dir>/NAME/`: a directory in `save_pretrained` layout, used as is (this is what
   `mtqc models pull` writes, and what you copy from a connected machine);
2. the Hugging Face cache (its folder layout read directly: importing `huggingface_hub` to look
   would cost a third of a second at every start; no network);
3. a download into `<models_dir>/NAME/`, unless offline. The hub is probed first with a short
   timeout so that a machine without network fails in seconds, never hangs.

Nothing here imports torch or transformers.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import socket
import sys
import time
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Iterable, Sequence

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

from ..config import Settings
from ..errors import ModelNotFoundError, UsageError

MANIFEST_RESOURCE = "models_manifest.toml"
MARKER_FILE = ".mtqc-model.json"  # written by `pull`: hub id and the commit sha actually fetched
CT2_SUFFIX = "-ct2-int8"
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
HUB_PROBE_TIMEOUT_S = 3.0
DOWNLOAD_ETAG_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class ModelInfo:
    """A model as it appears in a report signature."""

    name: str
    hub_id: str
    revision: str

    def __str__(self) -> str:
        return f"{self.name}@{self.revision[:12]}"


@dataclass(frozen=True)
class ModelSpec:
    """One manifest entry."""

    name: str
    hub_id: str
    revision: str
    kind: str  # "marian" | "lm"
    licence: str
    size_mb: int
    direction: str | None = None  # "en-id" for translation models
    files: tuple[str, ...] = ()


@lru_cache(maxsize=1)
def _manifest_text() -> str:
    return resources.files("mtqc").joinpath(MANIFEST_RESOURCE).read_text(encoding="utf-8")


def load_manifest(text: str | None = None) -> dict[str, ModelSpec]:
    """The models mtqc knows, by name (from the manifest shipped in the package)."""
    data = tomllib.loads(_manifest_text() if text is None else text)
    specs: dict[str, ModelSpec] = {}
    for name, entry in data.get("models", {}).items():
        specs[name] = ModelSpec(
            name=name,
            hub_id=entry["hub_id"],
            revision=str(entry.get("revision", "main")),
            kind=entry.get("kind", "marian"),
            licence=entry.get("licence", "unknown"),
            size_mb=int(entry.get("size_mb", 0)),
            direction=entry.get("direction"),
            files=tuple(entry.get("files", ())),
        )
    return specs


def get_spec(name: str) -> ModelSpec:
    specs = load_manifest()
    if name not in specs:
        raise UsageError(f"unknown model {name!r}; known models: {', '.join(sorted(specs))}")
    return specs[name]


def translation_model_name(src: str, tgt: str) -> str:
    """The manifest name of the translation model for src->tgt."""
    for spec in load_manifest().values():
        if spec.kind == "marian" and spec.direction == f"{src}-{tgt}":
            return spec.name
    raise ModelNotFoundError(f"no translation model for {src}->{tgt} in the model manifest")


def _fix_hint(name: str) -> str:
    return (f"run `mtqc models pull {name}` on a connected machine, or copy its models/ folder "
            f"(with {name}/) here")


def model_dir(name: str, settings: Settings) -> Path:
    return Path(settings.models_dir) / name


def ct2_dir(name: str, settings: Settings) -> Path:
    return Path(settings.models_dir) / f"{name}{CT2_SUFFIX}"


def _is_complete(path: Path, kind: str = "marian") -> bool:
    if not (path / "config.json").is_file():
        return False
    if not any((path / w).is_file() for w in WEIGHT_FILES):
        return False
    if kind == "marian":
        return (path / "source.spm").is_file() and (path / "target.spm").is_file()
    return True


@dataclass
class ResolvedModel:
    """A model found on disk: where, how it was found, and what revision it is."""

    spec: ModelSpec
    path: Path
    source: str  # "models_dir" | "hf_cache" | "download"
    revision: str
    _fingerprint: str | None = field(default=None, repr=False)

    @property
    def info(self) -> ModelInfo:
        return ModelInfo(self.spec.name, self.spec.hub_id, self.revision)

    def fingerprint(self) -> str:
        """Cheap content identity (configs, vocab, sizes, head+tail of weights), for cache keys."""
        if self._fingerprint is None:
            self._fingerprint = fingerprint_dir(self.path)
        return self._fingerprint


def fingerprint_dir(path: Path) -> str:
    h = hashlib.sha256()
    for file in sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith(".")):
        size = file.stat().st_size
        h.update(f"{file.name}\0{size}\0".encode())
        with open(file, "rb") as fh:
            if size <= 4 << 20:
                h.update(fh.read())
            else:
                h.update(fh.read(1 << 20))
                fh.seek(-(1 << 20), os.SEEK_END)
                h.update(fh.read())
    return h.hexdigest()


def _read_marker(path: Path) -> dict:
    try:
        return json.loads((path / MARKER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _local_revision(spec: ModelSpec, path: Path) -> str:
    marker = _read_marker(path)
    if marker.get("revision"):
        return str(marker["revision"])
    # a directory copied or built by hand: identify it by content, not by the manifest's branch name
    return "local-" + fingerprint_dir(path)[:12]


_COMMIT = re.compile(r"[0-9a-f]{40}")


def _from_hf_cache(spec: ModelSpec, settings: Settings) -> Path | None:
    """The model's snapshot in the Hugging Face cache, as `snapshot_download(local_files_only=True)`
    finds it: `models--ORG--NAME/snapshots/<commit>`, the commit named by `refs/<revision>` (or the
    revision itself when it is a commit hash)."""
    repo = Path(settings.hf_cache_dir) / ("models--" + spec.hub_id.replace("/", "--"))
    if not repo.is_dir():
        return None
    commit = spec.revision if _COMMIT.fullmatch(spec.revision) else None
    if commit is None:
        try:
            commit = (repo / "refs" / spec.revision).read_text(encoding="utf-8").strip()
        except (OSError, ValueError):  # no such ref, a broken cache: treat as absent
            return None
    path = repo / "snapshots" / commit
    return path if commit and path.is_dir() and _is_complete(path, spec.kind) else None


_PROBE_MEMO: dict[str, tuple[float, str | None]] = {}
_PROBE_MEMO_S = 60.0


def _hub_reachable(endpoint: str, timeout: float = HUB_PROBE_TIMEOUT_S) -> str | None:
    """None when the hub answers a TCP connect within `timeout`, else why not (remembered for a
    minute, so that several missing models cost one probe)."""
    memo = _PROBE_MEMO.get("hub")
    if memo is not None and time.monotonic() - memo[0] < _PROBE_MEMO_S:
        return memo[1]
    result = _probe_hub(endpoint, timeout)
    _PROBE_MEMO["hub"] = (time.monotonic(), result)
    return result


def _probe_hub(endpoint: str, timeout: float) -> str | None:
    from importlib.util import find_spec
    from urllib.parse import urlparse

    if find_spec("huggingface_hub") is None:  # found without importing it (a third of a second)
        return "huggingface_hub is not installed (pip install 'mtqc[neural]')"

    url = urlparse(endpoint)
    host, port = url.hostname or "huggingface.co", url.port or (443 if url.scheme == "https" else 80)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except OSError as exc:
        return f"cannot reach {host} ({exc.__class__.__name__}: {exc})"


def locate_model(name: str, settings: Settings, *, download: bool | None = None) -> ResolvedModel:
    """Find model NAME (models dir, then HF cache, then download unless offline).

    `download=None` downloads unless `settings.offline`; False never touches the network.
    Raises ModelNotFoundError with a one-line message naming the model and the fix.
    """
    spec = get_spec(name)
    local = model_dir(name, settings)
    problem = ""
    if local.is_dir():
        if _is_complete(local, spec.kind):
            return ResolvedModel(spec, local, "models_dir", _local_revision(spec, local))
        problem = f" ({local} exists but is incomplete: no config.json, weights or *.spm)"
    cached = _from_hf_cache(spec, settings)
    if cached is not None:
        return ResolvedModel(spec, cached, "hf_cache", cached.name)
    if download is None:
        download = not settings.offline
    if not download:
        why = "offline mode" if settings.offline else "downloads disabled"
        raise ModelNotFoundError(
            f"model {name} ({spec.hub_id}) not found in {local} nor in the Hugging Face cache "
            f"[{why}]{problem}; {_fix_hint(name)}"
        )
    return _download(spec, local, settings)


def locate_models(names: Sequence[str], settings: Settings) -> list[ResolvedModel]:
    """`locate_model` for each name; when some are missing, one error naming all of them."""
    found: list[ResolvedModel] = []
    missing: list[tuple[str, ModelNotFoundError]] = []
    for name in names:
        try:
            found.append(locate_model(name, settings))
        except ModelNotFoundError as exc:
            missing.append((name, exc))
    if len(missing) == 1:
        raise missing[0][1]
    if missing:
        listed = " ".join(n for n, _ in missing)
        first = str(missing[0][1])
        why = first[first.find("["):first.rfind("]") + 1] if "[" in first else ""
        raise ModelNotFoundError(
            f"models {', '.join(n for n, _ in missing)} not found in {Path(settings.models_dir)} nor in the "
            f"Hugging Face cache {why}; run `mtqc models pull {listed}` on a connected machine, or copy a "
            f"models/ folder that has them here"
        )
    return found


def _select_files(spec: ModelSpec, repo_files: Sequence[str]) -> list[str]:
    wanted = [f for f in spec.files if f in repo_files] if spec.files else list(repo_files)
    if "model.safetensors" in wanted and "pytorch_model.bin" in wanted:
        wanted.remove("pytorch_model.bin")  # one copy of the weights is enough
    return wanted


def _download(spec: ModelSpec, dest: Path, settings: Settings) -> ResolvedModel:
    unreachable = _hub_reachable(settings.hf_endpoint)
    if unreachable:
        raise ModelNotFoundError(
            f"model {spec.name} ({spec.hub_id}) is not on this machine and the hub is unreachable "
            f"[{unreachable}]; {_fix_hint(spec.name)}"
        )
    try:
        from huggingface_hub import HfApi, snapshot_download

        api = HfApi()
        info = api.model_info(spec.hub_id, revision=spec.revision, timeout=DOWNLOAD_ETAG_TIMEOUT_S)
        sha = info.sha or spec.revision
        files = _select_files(spec, [s.rfilename for s in (info.siblings or [])])
        # download next to the destination, then rename: an interrupted pull never leaves a
        # directory that looks complete; re-running resumes from the partial one
        partial = dest.parent / f".{dest.name}.partial"
        partial.mkdir(parents=True, exist_ok=True)
        snapshot_download(
            spec.hub_id, revision=sha, local_dir=partial, allow_patterns=files or None,
            etag_timeout=DOWNLOAD_ETAG_TIMEOUT_S,
        )
    except ModelNotFoundError:
        raise
    except Exception as exc:  # network errors, 404, disk full: one line, with the fix
        raise ModelNotFoundError(
            f"could not download model {spec.name} ({spec.hub_id}@{spec.revision}): "
            f"{exc.__class__.__name__}: {str(exc).splitlines()[0] if str(exc) else ''}; "
            f"{_fix_hint(spec.name)}"
        ) from exc
    (partial / MARKER_FILE).write_text(json.dumps({
        "name": spec.name, "hub_id": spec.hub_id, "revision": sha,
        "requested_revision": spec.revision, "pulled_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }, indent=1), encoding="utf-8")
    shutil.rmtree(partial / ".cache", ignore_errors=True)
    if not _is_complete(partial, spec.kind):
        raise ModelNotFoundError(f"download of {spec.name} is incomplete in {partial}; run `mtqc models pull {spec.name}` again")
    if dest.exists():
        shutil.rmtree(dest)
    partial.rename(dest)
    return ResolvedModel(spec, dest, "download", sha)


def pull(names: Iterable[str] | None, settings: Settings, *, force: bool = False) -> list[ResolvedModel]:
    """Make each model (all in the manifest when `names` is empty) present in the models dir.

    A model found in the HF cache is copied in (so that models/ can be carried to an offline
    machine); otherwise it is downloaded, unless offline.
    """
    names = list(names or load_manifest())
    for name in names:
        get_spec(name)  # unknown names fail before anything is fetched
    done: list[ResolvedModel] = []
    for name in names:
        spec = get_spec(name)
        dest = model_dir(name, settings)
        if not force and dest.is_dir() and _is_complete(dest, spec.kind):
            done.append(ResolvedModel(spec, dest, "models_dir", _local_revision(spec, dest)))
            continue
        cached = None if force else _from_hf_cache(spec, settings)
        if cached is not None:
            tmp = dest.parent / f".{dest.name}.partial"
            shutil.rmtree(tmp, ignore_errors=True)
            shutil.copytree(cached, tmp, symlinks=False)  # HF cache files are symlinks to blobs
            (tmp / MARKER_FILE).write_text(json.dumps({
                "name": name, "hub_id": spec.hub_id, "revision": cached.name, "requested_revision": spec.revision,
            }, indent=1), encoding="utf-8")
            if dest.exists():
                shutil.rmtree(dest)
            tmp.rename(dest)
            done.append(ResolvedModel(spec, dest, "hf_cache", cached.name))
            continue
        if settings.offline:
            raise ModelNotFoundError(f"cannot pull {name} ({spec.hub_id}) in offline mode; {_fix_hint(name)}")
        done.append(_download(spec, dest, settings))
    return done


def _dir_size(path: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for f in files:
            try:
                total += (Path(root) / f).stat().st_size  # follows HF cache symlinks to blobs
            except OSError:
                pass
    return total


@dataclass(frozen=True)
class ModelStatus:
    """One row of `mtqc models list`."""

    name: str
    hub_id: str
    kind: str
    direction: str | None
    licence: str
    present: bool
    where: str | None  # "models_dir" | "hf_cache" | None
    path: Path | None
    size_bytes: int
    revision: str | None  # the revision on disk (commit sha if known), else the manifest's
    manifest_revision: str
    expected_mb: int
    converted: bool = False  # a CTranslate2 int8 copy exists (translation models only)

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name, "hub_id": self.hub_id, "kind": self.kind, "direction": self.direction,
            "licence": self.licence, "present": self.present, "where": self.where,
            "path": str(self.path) if self.path else None, "size_bytes": self.size_bytes,
            "revision": self.revision, "manifest_revision": self.manifest_revision,
            "expected_mb": self.expected_mb, "ct2_converted": self.converted,
        }


def model_status(settings: Settings) -> list[ModelStatus]:
    """What is present, where, how big, which revision; never touches the network."""
    rows: list[ModelStatus] = []
    for spec in load_manifest().values():
        try:
            found: ResolvedModel | None = locate_model(spec.name, settings, download=False)
        except ModelNotFoundError:
            found = None
        converted = spec.kind == "marian" and (ct2_dir(spec.name, settings) / "model.bin").is_file()
        rows.append(ModelStatus(
            name=spec.name, hub_id=spec.hub_id, kind=spec.kind, direction=spec.direction,
            licence=spec.licence, present=found is not None, where=found.source if found else None,
            path=found.path if found else None, size_bytes=_dir_size(found.path) if found else 0,
            revision=found.revision if found else None, manifest_revision=spec.revision,
            expected_mb=spec.size_mb, converted=converted,
        ))
    return rows
