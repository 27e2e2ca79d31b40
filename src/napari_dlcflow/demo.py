"""``napari-dlcflow demo``: the workflow on the built-in synthetic example.

It grows with each capability of the plugin. Today it: writes the synthetic video and its truth,
creates a DeepLabCut project around it (body parts and skeleton of the synthetic animal), asks
DeepLabCut itself to validate the project in a child process, and shows the video with the truth
overlaid and the Project dock in napari, saving a screenshot. With a display the window stays
open; without one it runs on a virtual display (Xvfb) and says where the screenshot is.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

SCREENSHOT = "demo-screenshot.png"
WINDOW_SCREENSHOT = "demo-window.png"
TASK, SCORER = "synthetic-animal", "dlcflow"
_XVFB_FLAG = "DLCFLOW_DEMO_UNDER_XVFB"


def _step(n: int, text: str) -> float:
    print(f"[{n}] {text}", flush=True)
    return time.perf_counter()


def _reexec_under_xvfb(argv: list[str]) -> int | None:
    """Run the demo again on a virtual display; None if that is not possible."""
    xvfb = shutil.which("xvfb-run")
    if xvfb is None or os.environ.get(_XVFB_FLAG):
        return None
    import subprocess

    env = dict(os.environ, **{_XVFB_FLAG: "1"})
    cmd = [
        xvfb,
        "-a",
        "-s",
        "-screen 0 1600x1000x24",
        sys.executable,
        "-m",
        "napari_dlcflow",
        "demo",
        *argv,
    ]
    return subprocess.call(cmd, env=env)


def _existing_project(out: Path) -> Path | None:
    found = sorted(out.glob(f"{TASK}-{SCORER}-*/config.yaml"))
    return found[-1] if found else None


def run_demo(
    out: Path,
    *,
    n_frames: int = 300,
    seed: int = 0,
    dlc_check: bool = True,
    headless: bool = False,
) -> int:
    """Run the demo; returns the exit status.

    Parameters
    ----------
    out : Path
        Folder for everything the demo makes (re-used on a second run).
    n_frames, seed : int
        Length and seed of the synthetic video.
    dlc_check : bool
        Ask DeepLabCut to validate the project (a child process, 10-30 s).
    headless : bool
        Never open a window, even with a display.
    """
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        argv = ["--out", str(out), "--frames", str(n_frames), "--seed", str(seed), "--headless"]
        if not dlc_check:
            argv.append("--no-dlc-check")
        code = _reexec_under_xvfb(argv)
        if code is not None:
            return code
        headless = True

    from napari_dlcflow.core.create import create_project
    from napari_dlcflow.core.project import Project
    from napari_dlcflow.core.synthetic import SyntheticSpec, read_truth, write_synthetic_example

    out = out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    t0 = _step(1, f"Synthetic example video ({n_frames} frames, seed {seed}) -> {out / 'example'}")
    spec = SyntheticSpec(n_frames=n_frames, seed=seed)
    files = write_synthetic_example(out / "example", spec)
    keypoints, bodyparts = read_truth(files.truth_csv)
    print(
        f"    {files.video.name}, {len(bodyparts)} body parts ({time.perf_counter() - t0:.1f} s)"
    )

    t0 = _step(2, "DeepLabCut project")
    existing = _existing_project(out)
    if existing is not None:
        project = Project.open(existing)
        print(f"    re-using {project.root}")
    else:
        from napari_dlcflow.core.synthetic import SKELETON

        project = create_project(
            TASK,
            SCORER,
            [files.video],
            out,
            copy_videos=True,
            bodyparts=bodyparts,
            skeleton=SKELETON,
        )
        print(f"    created {project.root} ({time.perf_counter() - t0:.1f} s)")

    if dlc_check:
        from napari_dlcflow.core.dlc_check import check_config_in_child

        t0 = _step(3, "DeepLabCut validates config.yaml (child process)")
        verdict = check_config_in_child(project.config_path)
        print(
            f"    {'OK' if verdict.ok else 'REJECTED'}: {verdict.message} "
            f"({time.perf_counter() - t0:.1f} s)"
        )
        if not verdict.ok:
            return 1

    t0 = _step(4, "napari: video, ground truth and skeleton overlay, Project dock")
    shot = _show(project, files.video, keypoints, bodyparts, out, headless=headless)
    print(f"    screenshot: {shot} ({time.perf_counter() - t0:.1f} s)")
    print(f"\nDone. Project: {project.config_path}\nScreenshot: {shot}")
    return 0


def _show(project, video: Path, keypoints, bodyparts, out: Path, *, headless: bool) -> Path:  # type: ignore[no-untyped-def]
    import napari

    from napari_dlcflow.core.overlay import keypoint_layers
    from napari_dlcflow.core.video_probe import read_frames
    from napari_dlcflow.widgets._screenshot import prepare, save_screenshot
    from napari_dlcflow.widgets._state import state_for_viewer

    # On our own virtual display a shown window draws exactly what a user sees; a hidden one
    # renders its canvas at the wrong size.
    visible = not headless or bool(os.environ.get(_XVFB_FLAG))
    viewer = napari.Viewer(title="napari-dlcflow demo", show=visible)
    viewer.add_image(read_frames(video), name=video.stem, rgb=True)
    for data, kwargs, kind in keypoint_layers(
        keypoints, bodyparts, project.skeleton, name="ground truth"
    ):
        getattr(viewer, f"add_{kind}")(data, **kwargs)
    viewer.window.add_plugin_dock_widget("napari-dlcflow", "Project")
    state_for_viewer(viewer).set_project(project)
    viewer.dims.set_current_step(0, min(120, len(keypoints) - 1))
    prepare(viewer, (1500, 950))
    shot = save_screenshot(viewer, out / SCREENSHOT, canvas_only=True)
    save_screenshot(viewer, out / WINDOW_SCREENSHOT, canvas_only=False)
    if headless:
        viewer.close()
    else:
        napari.run()
    return shot
