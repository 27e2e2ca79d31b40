from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from napari_dlcflow.core import safe_io
from napari_dlcflow.core.safe_io import (
    SaveError,
    atomic_write,
    atomic_writer,
    list_backups,
    restore_backup,
)


def _leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]


def test_write_backup_and_prune(tmp_path: Path) -> None:
    target = tmp_path / "CollectedData_me.csv"
    assert atomic_write(target, "v0") is None  # nothing to back up yet
    for i in range(1, 8):
        made = atomic_write(target, f"v{i}", keep=3)
        assert made is not None and made.read_text() == f"v{i - 1}"
    assert target.read_text() == "v7"
    backups = list_backups(target)
    assert [b.read_text() for b in backups] == ["v6", "v5", "v4"]
    assert _leftovers(tmp_path) == []
    assert oct(target.stat().st_mode & 0o777) != oct(0o600)  # not mkstemp's private mode


def test_restore_backup_keeps_current_as_backup(tmp_path: Path) -> None:
    target = tmp_path / "config.yaml"
    atomic_write(target, "good")
    atomic_write(target, "bad edit")
    restore_backup(target, list_backups(target)[0])
    assert target.read_text() == "good"
    assert list_backups(target)[0].read_text() == "bad edit"


def test_disk_full_leaves_old_file_identical(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "labels.h5"
    target.write_bytes(b"old labels \x00\x01")

    def full(_fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(safe_io.os, "fsync", full)
    with pytest.raises(SaveError, match=r"labels\.h5.*No space left"):
        atomic_write(target, b"new" * 1000)
    assert target.read_bytes() == b"old labels \x00\x01"
    assert _leftovers(tmp_path) == []


def test_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SaveError, match="does not exist"):
        atomic_write(tmp_path / "gone" / "x.csv", "data")


def test_failed_replace_keeps_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "config.yaml"
    target.write_text("original")
    real_replace = os.replace

    def broken(src: str, dst: str) -> None:
        if Path(dst) == target:
            raise OSError(errno.EROFS, "Read-only file system")
        real_replace(src, dst)

    monkeypatch.setattr(safe_io.os, "replace", broken)
    with pytest.raises(SaveError, match="Read-only"):
        atomic_write(target, "new")
    assert target.read_text() == "original"
    assert _leftovers(tmp_path) == []


def test_atomic_writer_lets_any_writer_fill_the_temp_file(tmp_path: Path) -> None:
    import pandas as pd

    target = tmp_path / "table.csv"
    target.write_text("old")
    with atomic_writer(target, keep=2) as tmp:
        assert tmp.parent == tmp_path and tmp != target
        assert target.read_text() == "old"  # nothing in place until the block ends
        pd.DataFrame({"a": [1, 2]}).to_csv(tmp)
    assert target.read_text().splitlines()[1] == "0,1"
    assert [b.read_text() for b in list_backups(target)] == ["old"]
    assert _leftovers(tmp_path) == []


def test_atomic_writer_error_in_block_keeps_old_file(tmp_path: Path) -> None:
    target = tmp_path / "video.mp4"
    target.write_bytes(b"old video")
    with pytest.raises(RuntimeError, match="encoder died"), atomic_writer(target) as tmp:
        tmp.write_bytes(b"half a vid")
        raise RuntimeError("encoder died")
    assert target.read_bytes() == b"old video"
    assert _leftovers(tmp_path) == [] and list_backups(target) == []


def test_atomic_writer_os_error_in_block_is_a_save_error(tmp_path: Path) -> None:
    target = tmp_path / "new.h5"
    with pytest.raises(SaveError, match=r"new\.h5.*No space left"), atomic_writer(target):
        raise OSError(errno.ENOSPC, "No space left on device")
    assert not target.exists() and _leftovers(tmp_path) == []


def test_atomic_writer_fsync_failure_is_a_save_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "old.csv"
    target.write_text("old")

    def full(_fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(safe_io.os, "fsync", full)
    with pytest.raises(SaveError, match=r"old\.csv.*No space left"), atomic_writer(target) as tmp:
        tmp.write_text("new")
    assert target.read_text() == "old" and _leftovers(tmp_path) == []


def test_atomic_writer_needs_the_block_to_write(tmp_path: Path) -> None:
    target = tmp_path / "x.bin"
    target.write_bytes(b"keep")
    with pytest.raises(SaveError, match="nothing was written"), atomic_writer(target) as tmp:
        tmp.unlink()
    assert target.read_bytes() == b"keep"


def test_atomic_writer_without_backup(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    target.write_bytes(b"1")
    with atomic_writer(target, backup=False) as tmp:
        tmp.write_bytes(b"2")
    assert target.read_bytes() == b"2" and list_backups(target) == []
