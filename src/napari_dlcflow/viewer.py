"""Scripted napari sessions: open a project, a video and its predictions with the plugin's docks.

Example
-------
>>> import napari, napari_dlcflow as dlcflow                      # doctest: +SKIP
>>> viewer = dlcflow.open_in_viewer(napari.Viewer(), "~/projects/reach/config.yaml",
...                                 video="videos/mouse1.mp4")     # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import napari

__all__ = ["DOCKS", "open_in_viewer"]

#: Dock names accepted by :func:`open_in_viewer`, with their display names in ``napari.yaml``.
DOCKS = {
    "workflow": "Workflow",
    "project": "Project",
    "preprocess": "Preprocess",
    "labeling": "Labeling",
    "dataset": "Dataset",
    "training": "Training",
    "overlay": "Overlay",
    "plots": "Plots",
}


def open_in_viewer(
    viewer: napari.Viewer | None = None,
    project: str | os.PathLike | None = None,
    *,
    video: str | os.PathLike | None = None,
    analysis: str | os.PathLike | Sequence[str | os.PathLike] | None = None,
    docks: Sequence[str] = ("workflow",),
) -> napari.Viewer:
    """Open a project (and optionally a video with its predictions) in a napari viewer.

    Parameters
    ----------
    viewer : napari.Viewer, optional
        The viewer to use (default: a new one).
    project : path-like, optional
        The project's ``config.yaml`` or folder; it becomes the viewer's open project, which
        every dock of the plugin shows.
    video : path-like, optional
        A video or TIFF stack, opened as a lazy, frame-exact layer. A relative path is taken
        from the project folder when it is not found from the working directory.
    analysis : path-like or sequence of path-like, optional
        DeepLabCut analysis h5/csv file(s), overlaid as points (and skeleton) layers.
    docks : sequence of str
        Docks to add, from :data:`DOCKS` (default: the workflow dock, which holds every step).

    Returns
    -------
    napari.Viewer
        The viewer, with the docks on its window.

    Raises
    ------
    ValueError
        For a dock name not in :data:`DOCKS`.
    FileNotFoundError
        For a video or analysis file that does not exist.
    """
    unknown = [d for d in docks if d not in DOCKS]
    if unknown:
        raise ValueError(f"unknown dock(s) {unknown}; choose from {sorted(DOCKS)}")
    if viewer is None:
        import napari

        viewer = napari.Viewer()
    from napari_dlcflow.napari_common import state_for_viewer

    for name in docks:
        viewer.window.add_plugin_dock_widget("napari-dlcflow", DOCKS[name])
    root: Path | None = None
    if project is not None:
        opened = state_for_viewer(viewer).open(Path(project).expanduser())
        root = opened.root
    if video is not None:
        viewer.open(str(_existing(video, root)), plugin="napari-dlcflow")
    files: Sequence[Any] = (
        []
        if analysis is None
        else [analysis]
        if isinstance(analysis, (str, os.PathLike))
        else analysis
    )
    for f in files:
        viewer.open(str(_existing(f, root)), plugin="napari-dlcflow")
    return viewer


def _existing(path: str | os.PathLike, root: Path | None) -> Path:
    p = Path(path).expanduser()
    if not p.exists() and root is not None and not p.is_absolute() and (root / p).exists():
        p = root / p
    if not p.exists():
        raise FileNotFoundError(f"{p}: no such file")
    return p
