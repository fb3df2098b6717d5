"""Fault fixtures for write tests: a tiny full disk, a read-only folder (root: tmpfs mounts)."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Iterator

import pytest

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def mount_tmpfs(path: Path, options: str) -> None:
    """Mount a tmpfs at `path`, or skip the test saying why it cannot."""
    if not IS_ROOT:
        pytest.skip("mounting a tmpfs needs root; run the suite as root to test this fault")
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip() or done.returncode})")


def unmount(path: Path) -> None:
    if subprocess.run(["umount", str(path)], capture_output=True).returncode != 0:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)  # busy: detach it anyway


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 256 KiB file system that fills up after a few reports (an HTML report with its script is ~45 KB)."""
    disk = tmp_path / "disk"
    mount_tmpfs(disk, "size=256k")
    try:
        yield disk
    finally:
        unmount(disk)


@pytest.fixture
def readonly_dir(tmp_path: Path) -> Iterator[Path]:
    """An existing folder nothing can be written to: a read-only tmpfs as root, else mode 0555."""
    folder = tmp_path / "readonly"
    if IS_ROOT:
        mount_tmpfs(folder, "ro,size=16k")
        try:
            yield folder
        finally:
            unmount(folder)
        return
    folder.mkdir()
    folder.chmod(0o555)
    try:
        yield folder
    finally:
        folder.chmod(0o755)


def make_readonly(folder: Path) -> None:
    """Make a tmpfs mounted by `mount_tmpfs` read-only (root), or the folder and its files (others)."""
    if IS_ROOT:
        done = subprocess.run(["mount", "-o", "remount,ro", str(folder)], capture_output=True, text=True)
        if done.returncode != 0:
            pytest.skip(f"cannot remount read-only here ({done.stderr.strip()})")
        return
    for path in folder.iterdir():
        path.chmod(0o444)
    folder.chmod(0o555)
