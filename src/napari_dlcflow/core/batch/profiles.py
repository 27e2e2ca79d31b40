"""Named cluster profiles: what a job of a Slurm (PBS, SGE, LSF) cluster asks for.

A profile lives in the project's sidecar ``dlcflow.yaml`` under the key ``batch_clusters``
(:data:`SIDECAR_KEY`), one entry per name, or alone in a YAML file of its own::

    batch_clusters:
      gpu-short:
        scheduler: slurm       # slurm, pbs, sge or lsf
        queue: gpu             # the partition / queue
        cores: 4               # per job
        memory: 16GB           # per job
        gpus: 1                # per job (Slurm: --gres=gpu:N)
        walltime: "02:00:00"
        prologue:              # shell lines run before the worker starts
          - module load cuda/12.4
          - source ~/venvs/dlcflow/bin/activate
        maximum_jobs: 8        # adaptive scaling between minimum_jobs and this
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

__all__ = ["SCHEDULERS", "SIDECAR_KEY", "ClusterProfile", "load_profile"]

SIDECAR_KEY = "batch_clusters"
"""The key of the sidecar that holds the named cluster profiles."""

SCHEDULERS = ("slurm", "pbs", "sge", "lsf")


@dataclass
class ClusterProfile:
    """One kind of job on a batch-scheduled cluster.

    Attributes
    ----------
    name : str
        The profile's name.
    scheduler : {"slurm", "pbs", "sge", "lsf"}
    queue : str or None
        Partition (Slurm) or queue.
    cores : int
        Cores per job (one Dask worker per job, with this many threads... of which a task uses
        one, see :func:`~napari_dlcflow.core.batch.cluster.open_cluster`).
    memory : str
        Memory per job (``"16GB"``).
    gpus : int
        GPUs per job (Slurm: ``--gres=gpu:N``; other schedulers: put the directive in
        ``extra_directives``).
    walltime : str
        Time limit per job, ``HH:MM:SS``.
    prologue : list of str
        Shell lines the job script runs before the worker (modules, virtual environment).
    extra_directives : list of str
        More scheduler directives (``--constraint=a100``).
    account : str or None
        The account (project) jobs are charged to.
    minimum_jobs, maximum_jobs : int
        Bounds of adaptive scaling.
    interface : str or None
        Network interface the workers and scheduler talk on (``ib0``).
    python : str or None
        The Python the job runs (default: this one).
    log_directory : str or None
        Where the job scripts write their output.
    """

    name: str = "default"
    scheduler: str = "slurm"
    queue: str | None = None
    cores: int = 1
    memory: str = "4GB"
    gpus: int = 0
    walltime: str = "01:00:00"
    prologue: list[str] = field(default_factory=list)
    extra_directives: list[str] = field(default_factory=list)
    account: str | None = None
    minimum_jobs: int = 0
    maximum_jobs: int = 4
    interface: str | None = None
    python: str | None = None
    log_directory: str | None = None

    @classmethod
    def from_dict(
        cls, data: dict[str, Any], name: str, where: str | os.PathLike
    ) -> ClusterProfile:
        """Build a profile from its YAML mapping; ``where`` names the file in errors.

        Raises
        ------
        ValueError
            On unknown keys, an unknown scheduler or bad numbers (naming the file).
        """
        if not isinstance(data, dict):
            raise ValueError(f"{where}: cluster profile {name!r} is not a mapping")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(
                f"{where}: cluster profile {name!r} has unknown key(s) {', '.join(unknown)}; "
                f"known: {', '.join(sorted(known - {'name'}))}"
            )
        prof = cls(**{"name": name, **data})
        if prof.scheduler not in SCHEDULERS:
            raise ValueError(
                f"{where}: cluster profile {name!r}: scheduler must be one of "
                f"{', '.join(SCHEDULERS)}, not {prof.scheduler!r}"
            )
        for key in ("cores", "gpus", "minimum_jobs", "maximum_jobs"):
            value = getattr(prof, key)
            if not isinstance(value, int) or value < 0 or (key == "cores" and value < 1):
                raise ValueError(f"{where}: cluster profile {name!r}: bad {key} {value!r}")
        if prof.minimum_jobs > prof.maximum_jobs:
            raise ValueError(f"{where}: cluster profile {name!r}: minimum_jobs > maximum_jobs")
        for key in ("prologue", "extra_directives"):
            value = getattr(prof, key)
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ValueError(
                    f"{where}: cluster profile {name!r}: {key} must be a list of lines"
                )
        return prof

    def jobqueue_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of dask-jobqueue's cluster class for this profile."""
        directives = list(self.extra_directives)
        if self.gpus and self.scheduler == "slurm":
            directives.append(f"--gres=gpu:{self.gpus}")
        kw: dict[str, Any] = {
            "cores": self.cores,
            "memory": self.memory,
            "processes": 1,
            "walltime": self.walltime,
            "job_script_prologue": list(self.prologue),
            "job_extra_directives": directives,
        }
        for key in ("queue", "account", "interface", "python", "log_directory"):
            if getattr(self, key) is not None:
                kw[key] = getattr(self, key)
        if self.scheduler == "sge":
            kw.pop("account", None)
            if self.account is not None:
                kw["project"] = self.account
        if self.scheduler == "lsf" and self.account is not None:
            kw.pop("account")
            kw["project"] = self.account
        return kw


def _read_yaml(path: Path) -> Any:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        return YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    except (OSError, YAMLError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: not a readable cluster profile: {exc}") from exc


def load_profile(
    name_or_file: str | os.PathLike, project_root: str | os.PathLike | None = None
) -> ClusterProfile:
    """The cluster profile named ``name_or_file``.

    Parameters
    ----------
    name_or_file : str or path-like
        A YAML file (``.yaml``/``.yml``) holding one profile, or a mapping under
        ``batch_clusters`` whose only entry is taken; or the name of a profile in the project's
        sidecar.
    project_root : path-like, optional
        The project folder (or its ``config.yaml``) whose sidecar holds named profiles.

    Raises
    ------
    ValueError
        If the profile cannot be found or is invalid (the message names the file).
    """
    text = str(name_or_file)
    path = Path(text)
    if path.suffix in (".yaml", ".yml"):
        if not path.is_file():
            raise ValueError(f"cluster profile file {path} does not exist")
        data = _read_yaml(path)
        if isinstance(data, dict) and SIDECAR_KEY in data:
            entries = data[SIDECAR_KEY]
            if not isinstance(entries, dict) or len(entries) != 1:
                raise ValueError(f"{path}: {SIDECAR_KEY} must hold exactly one profile")
            ((name, body),) = entries.items()
            return ClusterProfile.from_dict(body, str(name), path)
        return ClusterProfile.from_dict(data or {}, path.stem, path)
    if project_root is None:
        raise ValueError(
            f"cluster {text!r} is not 'local', a scheduler address or a .yaml profile file, "
            "and no project was given to look it up in"
        )
    from napari_dlcflow.core.project.sidecar import Sidecar

    root = Path(project_root)
    if root.is_file() or root.suffix in (".yaml", ".yml"):  # the project's config.yaml
        root = root.parent
    side = Sidecar.load(root)
    profiles = side.batch_clusters
    if text not in profiles:
        known = ", ".join(sorted(profiles)) or "none"
        raise ValueError(
            f"{Sidecar.path_for(root)}: no cluster profile {text!r} under {SIDECAR_KEY} "
            f"(known: {known})"
        )
    return ClusterProfile.from_dict(profiles[text], text, Sidecar.path_for(root))
