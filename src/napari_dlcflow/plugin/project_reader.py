"""npe2 reader: dropping a DeepLabCut project folder or its config.yaml opens the project."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from napari_dlcflow.plugin import PathLike, single_path


def _config_of(path: PathLike) -> Path | None:
    """The project config of a dropped project folder or config file (never raises).

    The one ownership rule (:func:`~napari_dlcflow.core.project.config.project_of`), taken
    only when the drop *is* the project: a folder inside a project opens with its own reader.
    """
    from napari_dlcflow.core.project.config import project_of

    p = Path(path)
    cfg = project_of(p)
    if cfg is None or p.resolve() not in (cfg, cfg.parent):
        return None
    return cfg


def get_reader(path: PathLike | list[PathLike]) -> Callable[[Any], list[tuple]] | None:
    """Return a reader if ``path`` is a DeepLabCut project folder or config; else None."""
    one = single_path(path)
    if one is None:
        return None
    cfg = _config_of(one)
    if cfg is None:
        return None
    return lambda _path: open_project_in_viewer(cfg)


def open_project_in_viewer(cfg: Path) -> list[tuple]:
    """Open the project in the current viewer's Project dock; adds no layer by itself."""
    import napari

    from napari_dlcflow.napari_common import state_for_viewer

    viewer = napari.current_viewer()
    if viewer is None:
        raise RuntimeError("Open a napari viewer first")
    viewer.window.add_plugin_dock_widget("napari-dlcflow", "Project")
    state_for_viewer(viewer).open(cfg)
    return [(None,)]
