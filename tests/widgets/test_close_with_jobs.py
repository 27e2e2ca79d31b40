"""Closing napari while jobs run: it asks, stops the threads and the child job, and Python
ends cleanly (it used to abort: "wrapped C/C++ object of type WorkerBaseSignals has been
deleted"). The scenario runs in a subprocess so that an abort shows as its exit code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.gui

SCENARIO = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path

    import napari
    from qtpy.QtWidgets import QApplication

    from napari_dlcflow.widgets.common import jobs as _jobs
    from napari_dlcflow.widgets.common.jobs import JobRunner, StatusLine
    from napari_dlcflow.widgets.overlay.export import child_events

    video, out_dir, choice = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    asked = []
    _jobs.ask_close_with_jobs = lambda parent, running, detached: asked.append(running) or choice

    viewer = napari.Viewer(show=True)
    viewer.add_points([[1, 1]])  # napari closes an empty viewer without its close logic
    steps = []

    def slow(stop):
        for i in range(10_000):
            if stop.is_set():
                return "stopped"
            time.sleep(0.01)
            yield (i, 10_000)
        return "done"

    thread_job = JobRunner(status=StatusLine())
    thread_job.start(slow, thread_job.stop, message="Counting…", on_yield=steps.append)
    child_job = JobRunner(status=StatusLine())
    events = []
    child_job.start(
        child_events,
        ["preprocess", str(video), "--contrast", "clahe", "--out", str(out_dir)],
        child_job.stop,
        message="Preprocessing…",
        on_yield=events.append,
    )
    end = time.monotonic() + 4
    while time.monotonic() < end:
        QApplication.processEvents()
        time.sleep(0.02)
    window = viewer.window._qt_window
    window.close()  # what the window's close button does
    QApplication.processEvents()
    try:
        visible = window.isVisible()
    except RuntimeError:  # closed and deleted
        visible = False
    print(json.dumps({
        "asked": asked,
        "thread_busy": thread_job.busy,
        "child_busy": child_job.busy,
        "steps": len(steps),
        "exit": [e for e in events if e.get("event") == "exit"],
        "window_visible": visible,
    }))
    # then Python exits (after "cancel" with the window still open and the jobs running)
    """
)


def _run(tmp_path: Path, video: Path, choice: str) -> tuple[subprocess.CompletedProcess, dict]:
    script = tmp_path / "scenario.py"
    script.write_text(SCENARIO)
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, str(script), str(video), str(out), choice],
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    assert lines, proc.stdout + proc.stderr
    return proc, json.loads(lines[-1])


def test_closing_with_running_jobs_asks_stops_them_and_exits_cleanly(
    shared_data: Path, tmp_path: Path
) -> None:
    video = shared_data / "dlc-openfield" / "videos" / "m3v1mp4.mp4"
    proc, state = _run(tmp_path, video, "stop")
    assert proc.returncode == 0, proc.stderr[-3000:]  # no abort
    assert "has been deleted" not in proc.stderr and "Aborted" not in proc.stderr
    assert [sorted(a) for a in state["asked"]] == [["Counting", "Preprocessing"]]
    assert not state["thread_busy"] and not state["child_busy"]  # both ended before closing
    assert state["steps"] > 10
    # the child was stopped, said so, and left no half-written video
    assert len(state["exit"]) == 1 and not state["exit"][0]["ok"]
    assert not (tmp_path / "out" / f"{video.stem}_pre.mp4").exists()
    assert not state["window_visible"]


def test_cancelling_the_close_keeps_the_window_and_the_jobs(
    shared_data: Path, tmp_path: Path
) -> None:
    video = shared_data / "dlc-openfield" / "videos" / "m3v1mp4.mp4"
    proc, state = _run(tmp_path, video, "cancel")
    assert [sorted(a) for a in state["asked"]] == [["Counting", "Preprocessing"]]
    assert state["thread_busy"] and state["child_busy"] and state["window_visible"]
    assert state["exit"] == []
    assert proc.returncode == 0, proc.stderr[-3000:]
