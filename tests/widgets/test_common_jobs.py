"""The shared job runner, status line and Run/Cancel row (real Qt, virtual display)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from qtpy.QtWidgets import QProgressBar

from napari_dlcflow.widgets.common.jobs import ERROR_STYLE, JobRunner, RunCancelRow, StatusLine

pytestmark = pytest.mark.gui


def _counting(n: int, gate: threading.Event) -> Iterator[tuple[int, int]]:
    for i in range(n):
        gate.wait(5)
        yield i + 1, n
    return n


def test_progress_result_and_buttons(qtbot: Any) -> None:
    status, row, bar = StatusLine(), RunCancelRow("Run"), QProgressBar()
    second = row.add_run("Run all")
    qtbot.addWidget(row)
    jobs = JobRunner(status=status, row=row, progress=bar)
    gate = threading.Event()
    results: list[int] = []
    worker = jobs.start(_counting, 3, gate, message="Counting…", on_result=results.append)
    assert jobs.busy and status.text() == "Counting…"
    assert not row.run_button.isEnabled() and not second.isEnabled()
    assert row.cancel_button is not None and row.cancel_button.isEnabled()
    with qtbot.waitSignal(worker.finished, timeout=10_000):
        gate.set()
    assert results == [3] and (bar.value(), bar.maximum()) == (3, 3)
    assert not jobs.busy and row.run_button.isEnabled() and second.isEnabled()
    assert not row.cancel_button.isEnabled()


def test_one_error_path_and_cancel(qtbot: Any) -> None:
    status, row = StatusLine(), RunCancelRow("Run")
    qtbot.addWidget(row)
    jobs = JobRunner(status=status, row=row)

    gate = threading.Event()

    def boom() -> None:
        gate.wait(5)
        raise ValueError("no such file: x.h5")

    worker = jobs.start(boom, error_prefix="Import failed")
    with qtbot.waitSignal(worker.finished, timeout=10_000):
        gate.set()
    assert status.text() == "Import failed: no such file: x.h5"
    assert status.styleSheet() == ERROR_STYLE
    status.setText("fine again")  # plain text is never shown in red
    assert status.styleSheet() == ""

    # a job that watches the stop event ends when Cancel is clicked
    seen: list[str] = []

    def wait_for_stop(stop: threading.Event) -> str:
        deadline = time.monotonic() + 10
        while not stop.is_set() and time.monotonic() < deadline:
            time.sleep(0.01)
        return "stopped" if stop.is_set() else "timed out"

    worker = jobs.start(
        wait_for_stop,
        jobs.stop,
        on_result=seen.append,
        on_cancel=lambda: status.info("Cancelling…"),
    )
    assert row.cancel_button is not None
    with qtbot.waitSignal(worker.finished, timeout=10_000):
        row.cancel_button.click()
    assert seen == ["stopped"] and status.text() == "Cancelling…"
    assert row.run_button.isEnabled()


def test_cancel_quits_an_in_process_generator(qtbot: Any) -> None:
    jobs = JobRunner()
    gate = threading.Event()
    got: list[Any] = []
    worker = jobs.start(
        _counting, 1000, gate, on_yield=got.append, on_result=got.append, quit_on_cancel=True
    )
    with qtbot.waitSignal(worker.finished, timeout=10_000):
        jobs.cancel()
        gate.set()
    assert len(got) < 1000 and 1000 not in got


def _failing(gate: threading.Event) -> Iterator[tuple[int, int]]:
    yield 1, 2
    gate.wait(5)
    raise ValueError("bad.h5: no table")


def test_jobs_report_in_napari_activity_panel_and_notifications(
    make_napari_viewer: Any, qtbot: Any
) -> None:
    from napari.utils import progress
    from napari.utils.notifications import notification_manager

    make_napari_viewer()
    status, bar = StatusLine(), QProgressBar()
    jobs = JobRunner(status=status, progress=bar)
    gate = threading.Event()
    seen: list[tuple[int, int]] = []
    n_records = len(notification_manager.records)
    worker = jobs.start(_counting, 3, gate, message="Counting frames…")
    activity = jobs.activity
    assert activity is not None and activity in progress._all_instances
    assert activity.desc == "Counting frames"
    worker.yielded.connect(lambda v: seen.append((activity.n, activity.total)))
    with qtbot.waitSignal(worker.finished, timeout=10_000):
        gate.set()
    assert seen[-1] == (3, 3)  # the activity panel followed the yields
    assert jobs.activity is None and activity not in progress._all_instances  # closed
    messages = [str(r.message) for r in notification_manager.records[n_records:]]
    assert messages == ["Counting frames: finished."]

    # an error is a napari notification too (and still the status line's red text)
    gate.clear()
    worker = jobs.start(_failing, gate, message="Reading…", error_prefix="Cannot read")
    with qtbot.waitSignal(worker.finished, timeout=10_000):
        gate.set()
    last = notification_manager.records[-1]
    assert str(last.message) == "Cannot read: bad.h5: no table"
    assert last.severity == "error" and status.styleSheet() == ERROR_STYLE

    # jobs started without a message (previews) stay out of both
    n_records = len(notification_manager.records)
    gate.clear()
    worker = jobs.start(_counting, 2, gate)
    assert jobs.activity is None
    with qtbot.waitSignal(worker.finished, timeout=10_000):
        gate.set()
    assert len(notification_manager.records) == n_records


def test_a_long_path_does_not_widen_the_status_line(qtbot: Any) -> None:
    status = StatusLine()
    qtbot.addWidget(status)
    path = "/tmp/" + "/".join(["a-very-long-folder-name-without-spaces"] * 8) + "/config.yaml"
    status.error(f"cannot read {path}: no such file")
    assert status.minimumSizeHint().width() <= StatusLine.MAX_WORD_WIDTH
    assert status.toolTip() == status.text() == f"cannot read {path}: no such file"
    status.setText("short")  # the tooltip follows the text
    assert status.toolTip() == "short" and status.styleSheet() == ""
