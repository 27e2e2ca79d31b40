"""What every dock that runs jobs shares: one status line, one Run/Cancel row and one way to run
a background job (start, progress, cancel, one error path) on napari's thread workers.

The job itself never touches a widget or a layer: results, yielded values and errors are
delivered in the GUI thread, where the dock's callbacks update its widgets.
"""

from __future__ import annotations

import atexit
import queue
import threading
import weakref
from collections.abc import Callable, Generator
from typing import Any, TypeVar

from qtpy.QtCore import QElapsedTimer, QEvent, QObject, QSize, Qt, QThreadPool
from qtpy.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QWidget,
)

__all__ = [
    "ERROR_STYLE",
    "JobRunner",
    "RunCancelRow",
    "StatusLine",
    "ask_close_with_jobs",
    "register_detached",
    "stop_all_jobs",
    "stream",
]

T = TypeVar("T")

ERROR_STYLE = "color: #ff6b6b;"
"""Style sheet of a status line showing an error."""

EXIT_WAIT_MS = 30_000
"""How long Python's exit waits for running jobs (after asking them to stop)."""

_RUNNERS: weakref.WeakSet[JobRunner] = weakref.WeakSet()


def _wait_at_exit() -> None:
    """Ask every job to stop and wait for the threads before Python tears its modules down: a
    job still running then would end by emitting on a deleted Qt object and abort Python."""
    for runner in list(_RUNNERS):
        runner.stop.set()
        if runner._quit_on_cancel and runner.worker is not None:
            runner.worker.quit()
    QThreadPool.globalInstance().waitForDone(EXIT_WAIT_MS)


atexit.register(_wait_at_exit)

CLOSE_WAIT_MS = 15_000
"""How long closing the window waits for the stopped jobs' threads to end."""

#: Owners of detached jobs (a training process) that outlive the window unless stopped: each
#: has ``detached_running() -> str | None`` (what runs, or None) and ``stop_detached()``.
_DETACHED: weakref.WeakSet[Any] = weakref.WeakSet()


def register_detached(owner: Any) -> None:
    """Let closing the window ask about ``owner``'s detached job (see :data:`_DETACHED`)."""
    _DETACHED.add(owner)
    _install_close_guard()


def ask_close_with_jobs(parent: Any, running: list[str], detached: list[str]) -> str:
    """Ask what to do with running jobs when the window closes (tests replace this function).

    Returns
    -------
    str
        ``"cancel"`` (keep the window open), ``"keep"`` (stop the threads, leave detached jobs
        running) or ``"stop"`` (stop everything).
    """
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("Jobs are running")
    lines = [f"• {name}" for name in running + detached]
    box.setText("Close napari while these jobs run?\n" + "\n".join(lines))
    keep = None
    if detached:
        box.setInformativeText(
            "Background jobs in this window stop (their work so far is kept). Training runs in "
            "its own process and can keep running: reopen the project to follow it."
        )
        keep = box.addButton("Close, keep training", QMessageBox.ButtonRole.AcceptRole)
    stop = box.addButton("Stop all and close", QMessageBox.ButtonRole.DestructiveRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.exec_()
    clicked = box.clickedButton()
    if keep is not None and clicked is keep:
        return "keep"
    return "stop" if clicked is stop else "cancel"


def stop_all_jobs(*, detached: bool = False, wait_ms: int = CLOSE_WAIT_MS) -> bool:
    """Ask every job to stop and wait (delivering their last signals) until their threads end.

    Parameters
    ----------
    detached : bool
        Also stop detached jobs (training processes).
    wait_ms : int
        The longest wait.

    Returns
    -------
    bool
        Whether every thread ended in time.
    """
    runners = [r for r in list(_RUNNERS) if r.busy]
    for runner in runners:
        runner.cancel()
        # a job that ends on ``stop`` (a batch) is left to end: quitting it would abandon its
        # generator half-way, its clean-up (closing the cluster) not run
        if not runner._ends_on_stop and hasattr(runner.worker, "quit"):
            runner.worker.quit()
    if detached:
        for owner in list(_DETACHED):
            if owner.detached_running():
                owner.stop_detached()
    clock = QElapsedTimer()
    clock.start()
    pool = QThreadPool.globalInstance()
    while any(r.busy for r in runners) and clock.elapsed() < wait_ms:
        pool.waitForDone(50)
        QApplication.processEvents()  # the workers' finished signals clear ``busy``
    return not any(r.busy for r in runners)


def stream(func: Callable[[Callable[[Any], None]], T]) -> Generator[Any, None, T]:
    """Turn a blocking call that reports through a callback into a generator a thread worker
    can run: ``func(emit)`` runs in a helper thread, each value it emits is yielded here (so
    napari delivers it in the GUI thread), and its return value is returned (its exception
    raised) once it ends.

    Parameters
    ----------
    func : callable(emit) -> T
        Calls ``emit(value)`` from any thread, any number of times.

    Returns
    -------
    T
        What ``func`` returned (``result = yield from stream(func)``).
    """
    values: queue.Queue[Any] = queue.Queue()
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["result"] = func(values.put)
        except BaseException as exc:  # raised in the generator below
            box["error"] = exc

    thread = threading.Thread(target=target, name="dlcflow-stream", daemon=True)
    thread.start()
    while thread.is_alive() or not values.empty():
        try:
            yield values.get(timeout=0.1)
        except queue.Empty:
            continue
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["result"]  # type: ignore[no-any-return]


class _CloseGuard(QObject):
    """Watches napari's main windows: closing one while jobs run asks, then stops them cleanly
    before Qt deletes the widgets the workers report to (which aborted Python)."""

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.Close or not isinstance(obj, QMainWindow):
            return False
        try:
            busy = [r for r in list(_RUNNERS) if r.busy]
            running = [r.describe() for r in busy if r.activity is not None]  # the user's jobs
            detached = [d for d in (o.detached_running() for o in list(_DETACHED)) if d]
        except RuntimeError:  # an owner's widget is already deleted
            return False
        if not running and not detached:
            if busy:  # previews and the like: stop them without asking
                stop_all_jobs()
            return False
        choice = ask_close_with_jobs(obj, running, detached)
        if choice == "cancel":
            event.ignore()
            return True
        stop_all_jobs(detached=choice == "stop")
        return False


_GUARD: list[_CloseGuard] = []


def _install_close_guard() -> None:
    app = QApplication.instance()
    if _GUARD or app is None:
        return
    _GUARD.append(_CloseGuard(app))
    app.installEventFilter(_GUARD[0])


_SELECTABLE = Qt.TextInteractionFlag.TextSelectableByMouse


class StatusLine(QLabel):
    """One line (wrapping) that says what a dock is doing, or what went wrong.

    ``setText`` (and :meth:`info`) show plain text; :meth:`error` shows it in red.
    """

    #: The most a word (a long file path) may ask of the dock's width; longer words are cut at
    #: the label's edge, the whole text in the tooltip and selectable (docks fit 360 px).
    MAX_WORD_WIDTH = 200

    def __init__(self, text: str = "") -> None:
        super().__init__(text)
        self.setWordWrap(True)
        self.setTextInteractionFlags(self.textInteractionFlags() | _SELECTABLE)
        self.setToolTip(text)

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        return QSize(min(hint.width(), self.MAX_WORD_WIDTH), hint.height())

    def setText(self, text: str) -> None:
        """Show ``text`` in the normal colour."""
        self.setStyleSheet("")
        self._set(text)

    def _set(self, text: str) -> None:
        super().setText(text)
        self.setToolTip(text)

    def info(self, text: str) -> None:
        """Show ``text`` in the normal colour."""
        self.setText(text)

    def error(self, text: str) -> None:
        """Show ``text`` as an error (red)."""
        self._set(text)
        self.setStyleSheet(ERROR_STYLE)


class RunCancelRow(QWidget):
    """A Run button and a Cancel button side by side; Cancel is enabled only while running.

    Parameters
    ----------
    run_text : str
        The Run button's label (``"Analyze"``, ``"Extract"``, ...).
    cancel : bool
        Whether the row has a Cancel button (jobs that cannot stop have none).
    """

    def __init__(self, run_text: str, *, cancel: bool = True) -> None:
        super().__init__()
        self.row = QHBoxLayout(self)
        self.row.setContentsMargins(0, 0, 0, 0)
        self.run_button = QPushButton(run_text)
        self.row.addWidget(self.run_button)
        self._run_buttons = [self.run_button]
        self.cancel_button: QPushButton | None = None
        if cancel:
            self.cancel_button = QPushButton("Cancel")
            self.cancel_button.setEnabled(False)
            self.row.addWidget(self.cancel_button)

    def add(self, widget: QWidget) -> None:
        """Add another button after Run and Cancel."""
        self.row.addWidget(widget)

    def add_run(self, text: str) -> QPushButton:
        """Add a second Run button (another way to start the job), before Cancel."""
        button = QPushButton(text)
        self.row.insertWidget(len(self._run_buttons), button)
        self._run_buttons.append(button)
        return button

    def set_running(self, running: bool) -> None:
        """Disable the Run buttons and enable Cancel while a job runs (and back)."""
        for button in self._run_buttons:
            button.setEnabled(not running)
        if self.cancel_button is not None:
            self.cancel_button.setEnabled(running)


class JobRunner:
    """Runs one background job at a time for a dock.

    Parameters
    ----------
    status : StatusLine, QLabel or object with ``info``/``error``, optional
        Where errors (and :meth:`start`'s ``message``) are shown.
    row : RunCancelRow, optional
        Its Run button is disabled while a job runs; its Cancel button calls :meth:`cancel`.
    progress : QProgressBar, optional
        Set from ``(done, total)`` tuples that the job yields (unless ``on_yield`` is given).

    Attributes
    ----------
    stop : threading.Event
        Cleared when a job starts, set by :meth:`cancel`: pass it to jobs that poll it (child
        processes through ``child_events``).
    worker : napari worker or None
        The running job.
    """

    def __init__(
        self,
        *,
        status: Any = None,
        row: RunCancelRow | None = None,
        progress: QProgressBar | None = None,
    ) -> None:
        self.status = status
        self.row = row
        self.progress = progress
        self.stop = threading.Event()
        self.worker: Any = None
        self._quit_on_cancel = False
        self._ends_on_stop = False
        self._on_cancel: Callable[[], None] | None = None
        if row is not None and row.cancel_button is not None:
            row.cancel_button.clicked.connect(self.cancel)
        self._message: str | None = None
        self.activity: Any = None  # napari.utils.progress of the running job (activity panel)
        _RUNNERS.add(self)
        _install_close_guard()

    @property
    def busy(self) -> bool:
        """Whether a job is running."""
        return self.worker is not None

    def start(
        self,
        func: Callable[..., Any],
        *args: Any,
        message: str | None = None,
        error_prefix: str = "Failed",
        on_result: Callable[[Any], None] | None = None,
        on_yield: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        on_finished: Callable[[], None] | None = None,
        on_cancel: Callable[[], None] | None = None,
        quit_on_cancel: bool = False,
        ends_on_stop: bool = False,
        **kwargs: Any,
    ) -> Any:
        """Start ``func(*args, **kwargs)`` in a thread worker; returns the started worker.

        Parameters
        ----------
        func : callable
            The job (a generator function yields progress or events).
        message : str, optional
            Shown on the status line when the job starts.
        error_prefix : str
            The one error path: an exception is shown as ``"<error_prefix>: <exception>"``
            (unless ``on_error`` handles it).
        on_result, on_yield, on_error, on_finished : callable, optional
            Called in the GUI thread with the return value, each yielded value, the exception,
            and at the end (after success, failure or cancel).
        on_cancel : callable, optional
            Called when the user cancels (to say so on the status line).
        quit_on_cancel : bool
            Cancel also quits a generator job at its next ``yield`` (in-process jobs); jobs that
            watch :attr:`stop` (child processes) leave it False to get their last events.
        ends_on_stop : bool
            The job watches :attr:`stop` and ends by itself after its clean-up (a batch closes
            its cluster): closing the window then waits for it (:func:`stop_all_jobs`) instead
            of quitting its generator at the next ``yield``.
        """
        from napari.qt.threading import create_worker

        self.stop.clear()
        self._message = message or getattr(func, "__name__", "a job")
        self._quit_on_cancel = quit_on_cancel
        self._ends_on_stop = ends_on_stop
        self._on_cancel = on_cancel
        # errors go to the status line only (napari would re-raise them in the GUI thread)
        worker = create_worker(func, *args, _start_thread=False, _ignore_errors=True, **kwargs)
        if hasattr(worker, "yielded"):
            worker.yielded.connect(on_yield or self._show_progress)
        if on_result is not None:
            worker.returned.connect(on_result)
        worker.errored.connect(on_error or (lambda exc: self.fail(f"{error_prefix}: {exc}")))
        if message is not None:  # a job the user started: napari's activity panel and notices
            from napari.utils import progress

            self.activity = progress(total=0, desc=self.describe())
            worker.returned.connect(self._notify_done)
            worker.errored.connect(lambda exc: self._notify_error(f"{error_prefix}: {exc}"))
        worker.finished.connect(self._finished)
        if on_finished is not None:
            worker.finished.connect(on_finished)
        self.worker = worker
        if self.row is not None:
            self.row.set_running(True)
        if self.progress is not None:
            self.progress.setValue(0)
        if message is not None:
            self.info(message)
        worker.start()
        return worker

    def cancel(self) -> None:
        """Ask the running job to stop."""
        if self.worker is None:
            return
        self.stop.set()
        if self._quit_on_cancel and hasattr(self.worker, "quit"):
            self.worker.quit()
        if self._on_cancel is not None:
            self._on_cancel()

    def describe(self) -> str:
        """What the running job is (its start message), for the close question."""
        return (self._message or "a job").rstrip("…. ")

    def info(self, text: str) -> None:
        """Show ``text`` on the status line."""
        if hasattr(self.status, "info"):
            self.status.info(text)
        elif self.status is not None:
            self.status.setText(text)

    def fail(self, text: str) -> None:
        """Show ``text`` as an error on the status line."""
        if hasattr(self.status, "error"):
            self.status.error(text)
        elif self.status is not None:
            self.status.setText(text)

    def _show_progress(self, value: Any) -> None:
        if not isinstance(value, tuple) or len(value) != 2:
            return
        done, total = value
        self.report_progress(int(done), int(total))
        if self.progress is None:
            return
        self.progress.setRange(0, max(int(total), 1))
        self.progress.setValue(int(done))

    def report_progress(self, done: int, total: int) -> None:
        """Show ``done`` of ``total`` in napari's activity panel (docks with their own events
        call this from their ``on_yield``)."""
        bar = self.activity
        if bar is None:
            return
        if bar.total != total:
            bar.total = max(int(total), 0)
        bar.n = int(done)
        bar.refresh()

    def _notify_done(self, _result: Any = None) -> None:
        from napari.utils.notifications import show_info

        if self.stop.is_set():
            show_info(f"{self.describe()}: cancelled.")
        else:
            show_info(f"{self.describe()}: finished.")

    def _notify_error(self, text: str) -> None:
        from napari.utils.notifications import show_error

        show_error(text)

    def _finished(self) -> None:
        if self.activity is not None:
            self.activity.close()
            self.activity = None
        self.worker = None
        if self.row is not None:
            self.row.set_running(False)
