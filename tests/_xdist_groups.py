"""``--dist loadgroup`` that works with pytest 9.2: tests marked ``xdist_group(name)`` share a
worker.

pytest-xdist 3.8 tells its scheduler a test's group by appending ``@name`` to the test's node
id in the worker (``item._nodeid``); pytest 9.2 keeps node ids in a structured ``item._id``, so
the suffix is lost and grouped tests are spread over the workers like any other
(pytest-dev/pytest-xdist#1386, fix pending in #1388). Here the group travels another way, with
xdist's public hooks only: every worker writes ``{node id: group}`` of its collection to a
folder the controller names (``workerinput``), and the controller's scheduler, a
:class:`~xdist.scheduler.LoadGroupScheduling`, reads it when it first splits the collection
into work units, which is after every worker has collected. Where xdist's own suffix works
(older pytest), the ids carry ``@name`` and the base class groups them as before.

``tests/conftest.py`` imports these hooks; ``tests/test_xdist_groups.py`` runs a small suite
with ``-n 2 --dist loadgroup`` to prove the grouping.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest

INPUT_KEY = "dlcflow_xdist_groups"
_FOLDER = pytest.StashKey[Path]()


def _groups_of(items: list[pytest.Item]) -> dict[str, str]:
    """``{node id: group}`` of the items marked ``xdist_group`` (names joined as xdist does)."""
    out = {}
    for item in items:
        names = {
            str(m.args[0] if m.args else m.kwargs.get("name", "default"))
            for m in item.iter_markers("xdist_group")
        }
        if names:
            out[item.nodeid] = "_".join(sorted(names))
    return out


def pytest_configure(config: pytest.Config) -> None:
    """In the controller of a ``--dist loadgroup`` run: a folder for the workers' groups."""
    if hasattr(config, "workerinput") or config.getoption("dist", "no") != "loadgroup":
        return
    folder = Path(tempfile.mkdtemp(prefix="dlcflow-xdist-groups-"))
    config.stash[_FOLDER] = folder
    config.add_cleanup(lambda: shutil.rmtree(folder, ignore_errors=True))


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """Controller: tell each worker where to write its groups."""
    folder = node.config.stash.get(_FOLDER, None)
    if folder is not None:
        node.workerinput[INPUT_KEY] = str(folder)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Worker: write ``{node id: group}`` before the collection goes to the controller."""
    folder = getattr(config, "workerinput", {}).get(INPUT_KEY)
    if folder:
        name = config.workerinput["workerid"]  # type: ignore[attr-defined]
        tmp = Path(folder) / f".{name}.json"
        tmp.write_text(json.dumps(_groups_of(items)), encoding="utf-8")
        tmp.replace(Path(folder) / f"{name}.json")


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Controller: a loadgroup scheduler that knows the groups the workers wrote."""
    folder = config.stash.get(_FOLDER, None)
    if folder is None:
        return None
    from xdist.scheduler import LoadGroupScheduling

    class FileGroupScheduling(LoadGroupScheduling):  # type: ignore[misc]
        groups: dict[str, str] | None = None

        def _split_scope(self, nodeid: str) -> str:
            if self.groups is None:  # first call: after every worker collected
                self.groups = {}
                for f in sorted(folder.glob("*.json")):
                    self.groups.update(json.loads(f.read_text(encoding="utf-8")))
            group = self.groups.get(nodeid)
            return group or super()._split_scope(nodeid)

    return FileGroupScheduling(config, log)
