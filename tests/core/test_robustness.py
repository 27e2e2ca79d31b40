"""Bad input never takes the process down (issue 14): each class of fault that used to crash,
raise an exception naming no file, or load silently, on real files and real damage."""

from __future__ import annotations

import contextlib
import os
import random
import re
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

from napari_dlcflow.core.labels.collected import (
    CorruptLabelsError,
    Labels,
    LabelsChangedOnDiskError,
    read_labels,
    write_labels,
)
from napari_dlcflow.core.predictions.analysis_files import (
    PredictionsError,
    is_analysis_file,
    read_predictions,
    simulate_predictions,
    write_predictions,
)
from napari_dlcflow.core.project.config import ConfigChangedOnDiskError, ConfigError, Project
from napari_dlcflow.core.safe_io import SaveError, changed_outside, recorded_hash
from napari_dlcflow.core.untrusted import (
    ChangedOutsideWarning,
    IncompleteFileWarning,
    explain_child_failure,
    read_hdf_table,
)

M4 = "dlc-openfield/labeled-data/m4s1"


def _segfaulting_copy(shared_data: Path, dest: Path) -> Path:
    """The real CollectedData h5 with the 4 byte flips (seeded) that make PyTables segfault."""
    data = bytearray((shared_data / M4 / "CollectedData_Pranav.h5").read_bytes())
    rng = random.Random(210)
    for _ in range(rng.randint(1, 4)):
        i = rng.randrange(len(data))
        data[i] = rng.randrange(256)
    dest.write_bytes(bytes(data))
    return dest


def _small(stem: str = "vid") -> Labels:
    xy = np.array([[[10.5, 20.25], [np.nan, np.nan]], [[30.0, 40.0], [50.125, 60.0]]])
    return Labels(
        scorer="me",
        keypoints=[("", "nose"), ("", "tail")],
        images=[("labeled-data", stem, "img00.png"), ("labeled-data", stem, "img01.png")],
        xy=xy,
    )


# ------------------------------------------------------------------------- 1. HDF5 crashes
def test_the_damaged_h5_really_segfaults_pytables(shared_data: Path, tmp_path: Path) -> None:
    bad = _segfaulting_copy(shared_data, tmp_path / "CollectedData_Pranav.h5")
    code = "import pandas as pd, sys\npd.read_hdf(sys.argv[1])\n"
    run = subprocess.run([sys.executable, "-c", code, str(bad)], capture_output=True, timeout=120)
    assert run.returncode < 0  # killed by a signal: in process, this would take napari down


def test_every_h5_reader_survives_a_segfaulting_file(shared_data: Path, tmp_path: Path) -> None:
    folder = tmp_path / "m4s1"
    folder.mkdir()
    bad = _segfaulting_copy(shared_data, folder / "CollectedData_Pranav.h5")
    before = bad.read_bytes()
    with pytest.raises(CorruptLabelsError, match=r"CollectedData_Pranav\.h5.*crashed on it"):
        read_labels(bad)
    with pytest.raises(PredictionsError, match=r"CollectedData_Pranav\.h5.*crashed on it"):
        read_predictions(bad)
    assert is_analysis_file(bad) is False  # documented as never raising

    from napari_dlcflow.core.formats import FormatError, read_foreign

    with pytest.raises(FormatError, match=r"CollectedData_Pranav\.h5.*crashed"):
        read_foreign(bad, format="dlc")
    from napari_dlcflow.plugin.predictions_reader import get_predictions_reader

    assert get_predictions_reader(str(bad)) is None
    # the readability check of a save refuses to overwrite it, and the process lives on
    with pytest.raises(CorruptLabelsError, match="not overwritten"):
        write_labels(read_labels(shared_data / M4 / "CollectedData_Pranav.h5"), folder)
    assert bad.read_bytes() == before


def _read_in_daemon(path: str, out: object) -> None:
    try:
        read_labels(path)
        out.put("loaded")  # type: ignore[attr-defined]
    except CorruptLabelsError as exc:
        out.put(f"refused: {exc}")  # type: ignore[attr-defined]
    except BaseException as exc:
        out.put(f"raw {type(exc).__name__}: {exc}")  # type: ignore[attr-defined]


def test_untrusted_h5_is_read_inside_a_daemonic_process(shared_data: Path, tmp_path: Path) -> None:
    """Dask workers are daemonic processes, where multiprocessing refuses to start children;
    the protected read must still work there (a batch filtered nothing before this)."""
    import multiprocessing as mp

    bad = _segfaulting_copy(shared_data, tmp_path / "CollectedData_Pranav.h5")
    good = shared_data / M4 / "CollectedData_Pranav.h5"
    ctx = mp.get_context("fork")
    for path, want in ((good, "loaded"), (bad, "refused")):
        out = ctx.Queue()
        proc = ctx.Process(target=_read_in_daemon, args=(str(path), out), daemon=True)
        proc.start()
        got = out.get(timeout=120)
        proc.join(30)
        assert got.startswith(want), got
        assert proc.exitcode == 0


def test_own_files_are_trusted_and_a_silent_change_is_noticed(tmp_path: Path) -> None:
    folder = tmp_path / "vid"
    folder.mkdir()
    saved = write_labels(_small(), folder)
    assert recorded_hash(saved.h5) is not None and recorded_hash(saved.csv) is not None
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # our own, unchanged file: no warning
        assert read_labels(saved.h5).equals(_small())
    # one flipped byte in the data: HDF5 has no checksums, the hash notices it
    data = bytearray(saved.h5.read_bytes())
    data[-200] ^= 0xFF
    saved.h5.write_bytes(bytes(data))
    assert changed_outside(saved.h5)
    warned = pytest.warns(ChangedOutsideWarning, match=r"CollectedData_me\.h5.*changed")
    with warned, contextlib.suppress(CorruptLabelsError):
        read_labels(saved.h5)


def test_probe_is_cheap_for_files_we_wrote(tmp_path: Path) -> None:
    folder = tmp_path / "vid"
    folder.mkdir()
    saved = write_labels(_small(), folder)
    t0 = time.perf_counter()
    for _ in range(5):
        read_hdf_table(saved.h5)
    assert (time.perf_counter() - t0) / 5 < 0.5  # in process: no child for verified files


# ------------------------------------------------------------------------- 2. raw exceptions
def test_h5_entry_that_is_not_a_table_names_the_file(tmp_path: Path) -> None:
    import tables

    path = tmp_path / "CollectedData_me.h5"
    with tables.open_file(path, "w") as f:  # an HDF5 group where a table should be
        f.create_group("/", "df_with_missing")
    with pytest.raises(CorruptLabelsError, match=r"CollectedData_me\.h5"):
        read_labels(path)
    with pytest.raises(PredictionsError, match=r"CollectedData_me\.h5"):
        read_predictions(path)


def test_csv_cell_over_the_field_limit_names_the_file(shared_data: Path, tmp_path: Path) -> None:
    text = (shared_data / M4 / "CollectedData_Pranav.csv").read_text()
    lines = text.splitlines()
    lines[5] = lines[5].replace("labeled-data", '"' + "x" * 200_000 + '"', 1)
    bad = tmp_path / "CollectedData_Pranav.csv"
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(CorruptLabelsError, match=r"CollectedData_Pranav\.csv"):
        read_labels(bad)


def test_coco_with_a_wrong_type_names_the_file(tmp_path: Path) -> None:
    import json

    from napari_dlcflow.core.formats import FormatError, read_foreign

    doc = {
        "images": [{"id": 1, "file_name": "a.png", "width": 10, "height": 10}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "keypoints": [{}, 1, 2]}],
        "categories": [{"id": 1, "name": "dog", "keypoints": ["nose"]}],
    }
    bad = tmp_path / "ann.json"
    bad.write_text(json.dumps(doc))
    with pytest.raises(FormatError, match=r"ann\.json"):
        read_foreign(bad, format="coco")


def test_video_with_an_unknown_codec(tmp_path: Path, small_video: Path) -> None:
    import av

    from napari_dlcflow.core.video.probe import VideoError
    from napari_dlcflow.core.video.reader import VideoReader

    avi = tmp_path / "clip.avi"
    with av.open(str(small_video)) as src, av.open(str(avi), "w") as out:
        s = out.add_stream("mpeg4", rate=10)
        s.width, s.height, s.pix_fmt = 64, 64, "yuv420p"
        for i, frame in enumerate(src.decode(video=0)):
            if i == 5:
                break
            img = frame.to_ndarray(format="rgb24")[:64, :64]
            for pkt in s.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(img), "rgb24")):
                out.mux(pkt)
        for pkt in s.encode():
            out.mux(pkt)
    data = avi.read_bytes()
    for tag in (b"FMP4", b"mp4v", b"MP4V", b"XVID"):
        data = data.replace(tag, b"QQQQ")
    avi.write_bytes(data)
    with pytest.raises(VideoError, match=r"clip\.avi"):
        VideoReader(avi)


CONFIG_CASES = [
    ("pcutoff", "pcutoff: high"),
    ("dotsize", "dotsize: .inf"),
    ("iteration", "iteration: x"),
    ("video_sets", "video_sets: [a.mp4]"),
    ("skeleton", "skeleton: [5]"),
    ("TrainingFraction", "TrainingFraction: {a: 1}"),
    ("batch_size", "batch_size: 0"),
    ("engine", "engine: keras"),
]


@pytest.mark.parametrize(("key", "line"), CONFIG_CASES)
def test_wrong_config_value_is_refused_at_open_with_its_line(
    openfield_project: Path, key: str, line: str
) -> None:
    cfg = openfield_project / "config.yaml"
    text = cfg.read_text()
    lines = text.splitlines()
    if any(ln.startswith(f"{key}:") for ln in lines):
        n = next(i for i, ln in enumerate(lines) if ln.startswith(f"{key}:"))
        end = n + 1
        while end < len(lines) and lines[end].startswith(("  ", "- ")):
            end += 1
        lines[n:end] = [line]
    else:
        lines.append(line)
        n = len(lines) - 1
    cfg.write_text("\n".join(lines) + "\n")
    with pytest.raises(ConfigError, match=rf"config\.yaml, line {n + 1}: {key}"):
        Project.open(cfg)


def test_deep_nesting_and_huge_line_are_refused_fast(openfield_project: Path) -> None:
    cfg = openfield_project / "config.yaml"
    base = cfg.read_text()
    cfg.write_text(base + "colormap: " + "[" * 1000 + "]" * 1000 + "\n")
    with pytest.raises(ConfigError, match="nested 1000 deep"):
        Project.open(cfg)
    cfg.write_text(base + "# " + "x" * 2_000_000 + "\n")
    t0 = time.perf_counter()
    with pytest.raises(ConfigError, match=r"line \d+: a line of 2,000,002 characters"):
        Project.open(cfg)
    assert time.perf_counter() - t0 < 5  # was 46 s


# ------------------------------------------------------------------------- 3. silently accepted
def _pred_files(tmp_path: Path) -> tuple[Path, Path]:
    truth = np.random.default_rng(1).uniform(5, 35, size=(8, 2, 2))
    out = tmp_path / "videoDLC_Resnet50_tNov24shuffle1_snapshot_best-10.h5"
    write_predictions(simulate_predictions(truth, ("nose", "tail")), out, csv=True)
    return out, out.with_suffix(".csv")


def test_inf_coordinates_and_likelihood_above_one(tmp_path: Path) -> None:
    _h5, csv = _pred_files(tmp_path)
    lines = csv.read_text().splitlines()
    cells = lines[4].split(",")
    cells[1] = "inf"
    lines[4] = ",".join(cells)
    csv.write_text("\n".join(lines) + "\n")
    with pytest.raises(PredictionsError, match=r"\.csv: 1 infinite coordinates"):
        read_predictions(csv)
    cells[1], cells[3] = "10", "1.5"
    lines[4] = ",".join(cells)
    csv.write_text("\n".join(lines) + "\n")
    with pytest.raises(PredictionsError, match=r"\.csv: 1 likelihoods outside 0\.\.1"):
        read_predictions(csv)
    folder = tmp_path / "vid"
    folder.mkdir()
    labels = _small()
    labels.xy[0, 0, 0] = np.inf
    saved = write_labels(labels, folder)
    with pytest.raises(CorruptLabelsError, match=r"CollectedData_me\.h5: 1 infinite"):
        read_labels(saved.h5)


def test_csv_cut_mid_file(shared_data: Path, tmp_path: Path) -> None:
    text = (shared_data / M4 / "CollectedData_Pranav.csv").read_bytes()
    cut = tmp_path / "CollectedData_Pranav.csv"
    middle = text.index(b",", len(text) // 2)
    cut.write_bytes(text[:middle])  # a row with fewer cells than columns
    with pytest.raises(CorruptLabelsError, match=r"Pranav\.csv: the last row has \d+ of 9 cells"):
        read_labels(cut)
    end = text.index(b"\n", middle)
    cut.write_bytes(text[: end - 3])  # every cell there, the last number cut: a warning
    with pytest.warns(IncompleteFileWarning, match=r"Pranav\.csv: does not end with a newline"):
        read_labels(cut)
    _, csv = _pred_files(tmp_path)
    data = csv.read_bytes()
    csv.write_bytes(data[: data.rindex(b",")])
    with pytest.raises(PredictionsError, match=r"\.csv: the last row has"):
        read_predictions(csv)


def test_rows_with_an_empty_index(shared_data: Path, tmp_path: Path) -> None:
    lines = (shared_data / M4 / "CollectedData_Pranav.csv").read_text().splitlines()
    lines[6] = ",".join(["", *lines[6].split(",")[1:]])
    bad = tmp_path / "CollectedData_Pranav.csv"
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(CorruptLabelsError, match="row 7 has no image name"):
        read_labels(bad)


def test_mkv_cut_in_half(tmp_path: Path) -> None:
    import av

    from napari_dlcflow.core.video.probe import VideoError
    from napari_dlcflow.core.video.reader import VideoReader

    mkv = tmp_path / "clip.mkv"
    with av.open(str(mkv), "w") as out:
        s = out.add_stream("mpeg4", rate=30)
        s.width, s.height, s.pix_fmt = 64, 48, "yuv420p"
        for i in range(60):
            f = av.VideoFrame.from_ndarray(np.full((48, 64, 3), i * 4, np.uint8), "rgb24")
            for pkt in s.encode(f):
                out.mux(pkt)
        for pkt in s.encode():
            out.mux(pkt)
    assert len(VideoReader(mkv)) == 60
    data = mkv.read_bytes()
    mkv.write_bytes(data[: len(data) // 2])
    with pytest.raises(VideoError, match=r"clip\.mkv is truncated"):
        VideoReader(mkv)


# ------------------------------------------------------------------------- 4. saving
def test_csv_failure_restores_the_h5_and_says_so(tmp_path: Path) -> None:
    folder = tmp_path / "vid"
    folder.mkdir()
    first = write_labels(_small(), folder)
    old = first.h5.read_bytes()
    first.csv.unlink()
    first.csv.mkdir()  # the csv cannot be replaced: a real failure between the two files
    changed = _small()
    changed.xy[:] = 7.0
    with pytest.raises(SaveError, match="was put back as it was, so both files are unchanged"):
        write_labels(changed, folder, expected_stamp=first.stamp)
    assert first.h5.read_bytes() == old
    first.csv.rmdir()
    # the next save is not refused as "changed by another program"
    write_labels(changed, folder, expected_stamp=first.stamp)
    assert read_labels(first.h5).equals(changed)


def test_touch_is_not_a_change_but_a_csv_edit_is(tmp_path: Path) -> None:
    folder = tmp_path / "vid"
    folder.mkdir()
    saved = write_labels(_small(), folder)
    st = saved.h5.stat()
    os.utime(saved.h5, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    saved = write_labels(_small(), folder, expected_stamp=saved.stamp)  # touch: accepted
    saved.csv.write_text(saved.csv.read_text().replace("10.5", "11.5"))
    with pytest.raises(LabelsChangedOnDiskError, match=r"CollectedData_me\.csv.*CSV"):
        write_labels(_small(), folder, expected_stamp=saved.stamp)
    write_labels(_small(), folder)  # "save anyway" overwrites it


def test_deleted_config_is_not_silently_recreated(openfield_project: Path) -> None:
    project = Project.open(openfield_project)
    project.pcutoff = 0.5
    (openfield_project / "config.yaml").unlink()
    with pytest.raises(ConfigChangedOnDiskError, match="deleted or moved"):
        project.save()
    assert not (openfield_project / "config.yaml").exists()
    project.save(force=True)
    assert Project.open(openfield_project).pcutoff == 0.5


# ------------------------------------------------------------------------- 5. validation
def test_truncated_png_blocks_validation_by_name(
    openfield_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from napari_dlcflow.core.formats.importing import register_folders
    from napari_dlcflow.core.labels.validation import validate_project

    project = Project.open(openfield_project)
    project.repair_project_path()
    register_folders(project)
    project.save()
    img = openfield_project / "labeled-data/m4s1/img0042.png"
    data = img.read_bytes()
    img.write_bytes(data[: len(data) * 2 // 3])  # opens fine, fails to decode
    from PIL import Image

    opened: list[str] = []
    real_open = Image.open

    def counting_open(fp, *a, **kw):  # type: ignore[no-untyped-def]
        opened.append(str(fp))
        return real_open(fp, *a, **kw)

    monkeypatch.setattr(Image, "open", counting_open)
    seen: list[tuple[int, int]] = []
    report = validate_project(project, progress=lambda d, t: seen.append((d, t)))
    assert not report.ok
    bad = next(i for i in report.problems if i.code == "unreadable-image")
    assert bad.items == ("img0042.png",)
    assert seen[-1] == (116, 116) and len(seen) == 116
    assert len(opened) >= 116  # every image decoded once
    opened.clear()
    again = validate_project(project)
    assert again.issues == report.issues
    assert opened == []  # cached by size and modification time: nothing decoded again


def test_child_failure_names_file_and_cause() -> None:
    from napari_dlcflow.core.jobs import ChildResult

    log = [
        "Traceback (most recent call last):",
        '  File "/x/deeplabcut/dataset.py", line 200, in __getitem__',
        "    raise ValueError(\"could not read image '/p/labeled-data/m4s1/img0042.png'\")",
        "cv2.error: OpenCV(4.10.0) error: (-215:Assertion failed) !_src.empty() in 'cvtColor'",
    ]
    reason = ChildResult(returncode=1, log=log).reason()
    assert "/p/labeled-data/m4s1/img0042.png" in reason and "cv2.error" in reason
    assert explain_child_failure("RuntimeError: CUDA out of memory") is None
    # a child the out-of-memory killer stopped (seen: DeepLabCut's multi-animal analysis of a
    # 3-epoch network on 1024 px frames took 24 GiB) says that it may have run out of memory
    killed = ChildResult(returncode=-9, log=[]).reason()
    assert killed.startswith("killed by signal 9") and "ran out of memory" in killed
    assert ChildResult(returncode=-15, log=[]).reason() == "killed by signal 15"


def test_cli_repair(openfield_project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from napari_dlcflow.cli import main

    assert not Project.open(openfield_project).project_path_ok
    code = main(["repair", str(openfield_project), "--project-path", "--register-folders"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "project_path:" in out and "added to video_sets:" in out and "ready for export" in out
    project = Project.open(openfield_project)
    assert project.project_path_ok
    assert any(re.search(r"m4s1$", k) for k in project.videos)
    assert main(["repair", str(openfield_project), "--project-path"]) == 0
    assert "nothing to repair" in capsys.readouterr().out


def test_mp4_missing_its_last_byte(shared_data: Path, tmp_path: Path) -> None:
    from napari_dlcflow.core.video.probe import VideoError
    from napari_dlcflow.core.video.reader import VideoReader

    src = shared_data / "dlc-openfield/videos/m3v1mp4.mp4"
    assert len(VideoReader(src)) == 2330
    cut = tmp_path / "m3v1mp4.mp4"
    cut.write_bytes(src.read_bytes()[:-1])
    with pytest.raises(VideoError, match=r"m3v1mp4\.mp4 is truncated.*'moov'.*1 bytes short"):
        VideoReader(cut)


def test_frame_number_too_large_names_the_file(tmp_path: Path) -> None:
    _, csv = _pred_files(tmp_path)  # found by the fuzzer: OverflowError naming no file
    lines = csv.read_text().splitlines()
    lines[5] = "99999999999999999999" + lines[5][lines[5].index(",") :]
    csv.write_text("\n".join(lines) + "\n")
    with pytest.raises(PredictionsError, match=r"snapshot_best-10\.csv: cannot be read"):
        read_predictions(csv)


# ------------------------------------------------------------------------- 6. bounded errors
# Issue 22: no message quotes more than a few hundred characters of a file, and a file built to
# blow up (a YAML alias bomb, a huge value) is refused quickly with its line.
def _alias_bomb(levels: int, fan: int = 9) -> str:
    """One line of YAML whose aliases expand to ``fan ** levels`` values ("billion laughs")."""
    value = "&a0 [" + ", ".join(["1"] * fan) + "]"
    for k in range(1, levels):
        value = f"[{value}, &a{k} [" + ", ".join([f"*a{k - 1}"] * fan) + "]]"
    return value


def _set_config_line(cfg: Path, key: str, value: str) -> int:
    """Replace ``key: ...`` (a one-line setting) by ``key: value``; its 1-based line."""
    lines = cfg.read_text().splitlines()
    n = next(i for i, ln in enumerate(lines) if ln.startswith(f"{key}:"))
    lines[n] = f"{key}: {value}"
    cfg.write_text("\n".join(lines) + "\n")
    return n + 1


def test_yaml_alias_bomb_is_refused_with_its_line(
    openfield_project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from napari_dlcflow.cli import main

    cfg = openfield_project / "config.yaml"
    line = _set_config_line(cfg, "dotsize", _alias_bomb(8))  # 9**8 = 43 million values
    with pytest.raises(ConfigError) as err:
        Project.open(cfg)
    msg = str(err.value)
    # was: the 157-million-character repr of the expanded value, after seconds of building it
    assert len(msg) - len(str(cfg)) < 350, f"a message of {len(msg):,} characters"
    assert re.search(rf"config\.yaml, line {line}: dotsize: YAML aliases expand", msg)
    for command in ("validate", "check-labels"):  # was: a hang and a 312 MB message
        assert main([command, str(cfg)]) != 0
        out = capsys.readouterr()
        assert len(out.out) + len(out.err) < 600
        assert f"line {line}: dotsize: YAML aliases" in out.err


def test_a_bomb_of_valid_values_is_refused_too(openfield_project: Path) -> None:
    # every edge a valid pair: nothing about the type is wrong, only the size
    cfg = openfield_project / "config.yaml"
    text = cfg.read_text()
    start = text.index("skeleton:")
    end = text.index("\n", text.index("skeleton_color:"))
    pair = "&e0 [snout, leftear]"
    edges = f"[{pair}" + ", *e0" * 499 + "]"
    bomb = f"[&s0 {edges}" + "".join(f", &s{k} [*s{k - 1}, *s{k - 1}]" for k in range(1, 12))
    cfg.write_text(text[:start] + f"skeleton: {bomb}]\nskeleton_color: black" + text[end:])
    with pytest.raises(ConfigError, match=r"line \d+: skeleton: YAML aliases expand"):
        Project.open(cfg)


def test_yaml_that_breaks_the_parser_names_the_file(openfield_project: Path) -> None:
    cfg = openfield_project / "config.yaml"
    line = _set_config_line(cfg, "dotsize", "9" * 5000)  # was a bare ValueError (int limit)
    with pytest.raises(ConfigError, match=rf"config\.yaml, line {line}: invalid YAML .*digits"):
        Project.open(cfg)
    _set_config_line(cfg, "dotsize", "&a {<<: *a}")  # was a bare AttributeError
    with pytest.raises(ConfigError, match=r"config\.yaml: invalid YAML \(AttributeError"):
        Project.open(cfg)


def test_a_huge_value_is_quoted_shortly(openfield_project: Path) -> None:
    cfg = openfield_project / "config.yaml"
    text = cfg.read_text()
    # a body part name of 2 MB in a block scalar (each line short, so the line limit allows it)
    name = "\n".join(["    " + "x" * 60_000] * 35)
    cfg.write_text(text.replace("bodyparts:\n", f"bodyparts:\n- |\n{name}\n", 1))
    with pytest.raises(ConfigError) as err:
        Project.open(cfg)
    msg = str(err.value)
    assert len(msg) - len(str(cfg)) < 350, f"a message of {len(msg):,} characters"
    assert "Body part name 'xxxx" in msg and "(2,100,035 characters)" in msg


def test_a_huge_cell_is_quoted_shortly(shared_data: Path, tmp_path: Path) -> None:
    csv = tmp_path / "CollectedData_Pranav.csv"
    lines = (shared_data / M4 / "CollectedData_Pranav.csv").read_text().splitlines()
    cells = lines[5].split(",")
    cells[3] = "x" * 100_000  # (the csv module refuses cells over 131,072)
    lines[5] = ",".join(cells)
    csv.write_text("\n".join(lines) + "\n")
    with pytest.raises(CorruptLabelsError) as err:
        read_labels(csv)
    msg = str(err.value)
    assert len(msg) - len(str(csv)) < 400, f"a message of {len(msg):,} characters"
    assert "is not a number" in msg and "(100,000 characters)" in msg


def test_report_lines_quote_names_shortly() -> None:
    from napari_dlcflow.core.labels.qc import Finding, format_findings
    from napari_dlcflow.core.labels.validation import Issue

    huge = "img" + "9" * 200_000 + ".png"
    f = Finding("outside", "m4s1", huge, "", ("snout",), 3.0, f"snout in {huge} is outside")
    table = format_findings([f])
    assert max(len(ln) for ln in table.splitlines()) < 700
    assert "m4s1/img999" in table and "(200,012 characters)" in table
    issue = Issue(True, "missing-image", "m4s1", "images in the labels but not on disk", (huge,))
    assert len(issue.describe()) < 400


def test_quoting_is_bounded_in_time_and_length() -> None:
    from napari_dlcflow.core.untrusted import quoted, shorten

    bomb: list = [1] * 9
    for _ in range(30):  # 9**31 elements once expanded
        bomb = [bomb] * 9
    assert len(quoted(bomb)) < 260 and quoted(bomb).endswith("(a list of 9 items)")
    loop: list = [1]
    loop.append(loop)
    assert quoted(loop) == "[1, ...]"
    assert quoted(10**5000) == "<a number of about 5,000 digits>"
    assert quoted({"a": [1, "b"]}) == "{'a': [1, 'b']}"
    assert shorten("short") == "short"
    assert shorten("y" * 1000, 10) == "yyyyyyyyyy... (1,000 characters)"
