"""Our own per-project settings, kept beside ``config.yaml`` in ``dlcflow.yaml``.

DeepLabCut rejects unknown keys in ``config.yaml``, so nothing of ours ever goes there.
"""

from __future__ import annotations

import io
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from napari_dlcflow.core.safe_io import atomic_write

__all__ = ["SIDECAR_NAME", "Sidecar"]

SIDECAR_NAME = "dlcflow.yaml"


@dataclass
class Sidecar:
    """Settings of napari-dlcflow for one project.

    Attributes
    ----------
    created_with : str
        ``napari-dlcflow <version>`` that made the project, or empty if it was made elsewhere.
    videos_mode : str
        ``"copy"`` or ``"link"``: how new videos are brought into ``videos/``.
    label_qc : dict
        Label quality control (:mod:`napari_dlcflow.core.labels.qc`): ``dismissed`` (keys of
        findings the user dismissed), ``pairs`` (left/right body-part pairs declared by the
        user, ``[[left, right], ...]``) and ``views`` (the views of images that hold several,
        ``{view: [body parts]}``, where the names do not say).
    last_dataset : dict
        What the last dataset creation made (written by
        :func:`napari_dlcflow.core.engine.dataset.create_datasets`): ``iteration``,
        ``shuffles`` (list of int), ``trainset_index``, ``train_fraction``, ``created``. Train,
        evaluate, analyze and the docks use its first shuffle and its trainset index by default.
    batch_clusters : dict
        Named cluster profiles for batch work (name to mapping; see
        :mod:`napari_dlcflow.core.batch.profiles`).
    units : dict
        Physical units entered for videos whose files do not say (video key, the stem that
        names its analysis files, to ``{"pixel_size_um": float or None, "frame_interval_s":
        float or None}``; see :mod:`napari_dlcflow.core.predictions.units`).
    extra : dict
        Settings written by later versions that this one does not know (kept as they are).
    """

    created_with: str = ""
    videos_mode: str = "link"
    label_qc: dict[str, Any] = field(default_factory=dict)
    last_dataset: dict[str, Any] = field(default_factory=dict)
    batch_clusters: dict[str, Any] = field(default_factory=dict)
    units: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    @staticmethod
    def path_for(project_root: str | os.PathLike) -> Path:
        """Where the sidecar of the project in ``project_root`` lives."""
        return Path(project_root) / SIDECAR_NAME

    @classmethod
    def load(cls, project_root: str | os.PathLike) -> Sidecar:
        """Read the sidecar; a missing file gives the defaults.

        Raises
        ------
        ValueError
            If the file exists but is not a YAML mapping (the message names the file).
        """
        from ruamel.yaml import YAML
        from ruamel.yaml.error import YAMLError

        path = cls.path_for(project_root)
        if not path.exists():
            return cls()
        try:
            data = YAML(typ="safe").load(path.read_text(encoding="utf-8")) or {}
        except (YAMLError, UnicodeDecodeError) as exc:
            raise ValueError(f"{path}: not a valid napari-dlcflow settings file: {exc}") from exc
        if not isinstance(data, dict):
            raise ValueError(f"{path}: not a valid napari-dlcflow settings file (not a mapping)")
        known = {f.name for f in fields(cls)} - {"extra"}
        kwargs = {k: data.pop(k) for k in list(data) if k in known}
        if kwargs.get("videos_mode", "link") not in ("copy", "link"):
            raise ValueError(f"{path}: videos_mode must be 'copy' or 'link'")
        if not isinstance(kwargs.get("last_dataset", {}) or {}, dict):
            raise ValueError(f"{path}: last_dataset must be a mapping")
        if "last_dataset" in kwargs:
            kwargs["last_dataset"] = dict(kwargs["last_dataset"] or {})
        if not isinstance(kwargs.get("batch_clusters", {}), dict):
            raise ValueError(f"{path}: batch_clusters must be a mapping of profile names")
        if "units" in kwargs:
            kwargs["units"] = _checked_units(path, kwargs["units"])
        return cls(**kwargs, extra=data)

    def save(self, project_root: str | os.PathLike) -> None:
        """Write the sidecar atomically (with a backup of the previous one)."""
        from ruamel.yaml import YAML

        data = asdict(self)
        extra = data.pop("extra")
        if not data["batch_clusters"]:
            del data["batch_clusters"]  # written only once a profile is set
        if not data["units"]:
            del data["units"]  # written only once units are entered
        data.update(extra)
        buf = io.StringIO()
        buf.write("# napari-dlcflow settings for this project (DeepLabCut ignores this file)\n")
        y = YAML(typ="safe", pure=True)
        y.default_flow_style = False
        y.dump(data, buf)
        atomic_write(self.path_for(project_root), buf.getvalue())


UNIT_KEYS = ("pixel_size_um", "frame_interval_s")
"""The fields of one video's entry under ``units``."""


def _checked_units(path: Path, value: Any) -> dict[str, dict[str, float | None]]:
    """The ``units`` section as read, checked: positive finite numbers or null per field."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"{path}: units must be a mapping of video names")
    out: dict[str, dict[str, float | None]] = {}
    for video, entry in value.items():
        if not isinstance(entry, dict) or set(entry) - set(UNIT_KEYS):
            raise ValueError(
                f"{path}: units of {video!r} must be a mapping with {' and/or '.join(UNIT_KEYS)}"
            )
        row: dict[str, float | None] = {}
        for key in UNIT_KEYS:
            v = entry.get(key)
            ok = v is None or (
                isinstance(v, int | float) and not isinstance(v, bool) and 0 < v < float("inf")
            )
            if not ok:
                raise ValueError(
                    f"{path}: units of {video!r}: {key} must be a positive number, not {v!r}"
                )
            row[key] = None if v is None else float(v)
        out[str(video)] = row
    return out
