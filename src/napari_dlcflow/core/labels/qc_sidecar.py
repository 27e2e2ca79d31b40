"""Label QC settings kept in the project's sidecar (``label_qc``): declared left/right pairs,
views and scene parts, and the keys of the findings the user dismissed."""

from __future__ import annotations

import os
from collections.abc import Iterable

from napari_dlcflow.core.labels.qc_finding import Finding

__all__ = ["declared_pairs", "declared_scene_parts", "declared_views", "dismiss", "dismissed_keys"]


def _qc_settings(project_root: str | os.PathLike) -> dict:
    from napari_dlcflow.core.project.sidecar import Sidecar

    value = Sidecar.load(project_root).label_qc
    return value if isinstance(value, dict) else {}


def declared_pairs(project_root: str | os.PathLike) -> list[tuple[str, str]]:
    """Left/right pairs the user declared in the sidecar (``label_qc: pairs``)."""
    pairs = _qc_settings(project_root).get("pairs") or []
    return [(str(p[0]), str(p[1])) for p in pairs if isinstance(p, list | tuple) and len(p) == 2]


def declared_views(project_root: str | os.PathLike) -> dict[str, list[str]] | None:
    """Views the user declared in the sidecar (``label_qc: views: {name: [parts...]}``); None
    when the sidecar does not say (an empty ``views: {}`` says: no views found from the
    positions)."""
    settings = _qc_settings(project_root)
    if "views" not in settings:
        return None
    views = settings.get("views") or {}
    if not isinstance(views, dict):
        return {}
    return {str(k): [str(p) for p in v] for k, v in views.items() if isinstance(v, list | tuple)}


def declared_scene_parts(project_root: str | os.PathLike) -> list[str] | None:
    """Parts the user declared as scene parts (``label_qc: scene_parts: [...]``): points that
    do not move with the animal. None when the sidecar does not say (found from the data)."""
    parts = _qc_settings(project_root).get("scene_parts")
    return None if parts is None else [str(p) for p in parts]


def dismissed_keys(project_root: str | os.PathLike) -> set[str]:
    """:attr:`Finding.key` of the findings the user dismissed (``label_qc: dismissed``)."""
    return {str(k) for k in _qc_settings(project_root).get("dismissed") or []}


def dismiss(project_root: str | os.PathLike, findings: Iterable[Finding]) -> set[str]:
    """Remember ``findings`` as dismissed in the sidecar (saved atomically); returns all keys."""
    from napari_dlcflow.core.project.sidecar import Sidecar

    side = Sidecar.load(project_root)
    qc = dict(side.label_qc) if isinstance(side.label_qc, dict) else {}
    keys = list(dict.fromkeys([*(qc.get("dismissed") or []), *(f.key for f in findings)]))
    qc["dismissed"] = keys
    side.label_qc = qc
    side.save(project_root)
    return set(keys)
