"""npe2 reader: dropping a DeepLabCut project folder or its config.yaml opens the project."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

PathLike = str | os.PathLike


def _config_of(path: PathLike) -> Path | None:
    p = Path(path)
    cfg = p / "config.yaml" if p.is_dir() else p
    if cfg.name.lower() not in ("config.yaml", "config.yml") or not cfg.is_file():
        return None
    try:
        head = cfg.read_text(encoding="utf-8", errors="replace")[:20000]
    except OSError:
        return None
    # A DeepLabCut project config names its task and body parts; sniff, never raise.
    if "Task:" not in head or "bodyparts" not in head:
        return None
    return cfg


def get_reader(path: PathLike | list[PathLike]) -> Callable[[Any], list[tuple]] | None:
    """Return a reader if ``path`` is a DeepLabCut project folder or config; else None."""
    if isinstance(path, list):
        if len(path) != 1:
            return None
        path = path[0]
    cfg = _config_of(path)
    if cfg is None:
        return None
    return lambda _path: open_project_in_viewer(cfg)


def open_project_in_viewer(cfg: Path) -> list[tuple]:
    """Open the project in the current viewer's Project dock; adds no layer by itself."""
    import napari

    from napari_dlcflow.widgets.common.state import state_for_viewer

    viewer = napari.current_viewer()
    if viewer is None:
        raise RuntimeError("Open a napari viewer first")
    viewer.window.add_plugin_dock_widget("napari-dlcflow", "Project")
    state_for_viewer(viewer).open(cfg)
    return [(None,)]
