"""The package's import boundaries, checked on the source of every module (found by pkgutil).

- Only ``core/engine`` imports deeplabcut or torch, and there only inside functions (they run
  in child processes): importing an engine module stays cheap.
- Nothing under ``core`` imports Qt, napari or other GUI toolkits.
- Child processes are reached through the one hidden entry point, which ``--help`` never shows.
- Imports only point down: :data:`LAYERS` is the order of the packages, written once; a module
  imports only from its own package or from a lower one, and no two modules import each other,
  directly or through others (at module level, in functions, or for type checking).
"""

from __future__ import annotations

import ast
import json
import pkgutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

import napari_dlcflow
from napari_dlcflow.core.engine.tasks import ENTRY, TASKS, run_task

HEAVY = ("deeplabcut", "torch")
GUI = ("qtpy", "napari", "PyQt5", "PyQt6", "PySide2", "PySide6", "vispy", "magicgui", "superqt")


#: The packages from the bottom up. A package imports only from itself and from lower rows;
#: packages in one row do not import each other. Names are relative to ``napari_dlcflow``; a
#: module's package is the longest name here that it starts with.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("core",),  # the package's docstring and the version
    ("core.keypoints",),  # the one keypoint model: a leaf
    ("core.safe_io",),  # atomic writes, backups, the record of what we wrote
    ("core.untrusted",),  # reading files we did not write without risking the process
    ("core.jobs",),  # the child-process runner
    ("core.video",),  # probe, frame-exact readers, the writer, extraction, preprocessing
    ("core.project",),  # config.yaml, sidecar, creation, the open-project model
    ("core.predictions",),  # DeepLabCut's analysis files, filtering
    ("core.labels",),  # CollectedData, machine labels, editing sessions, change summaries, QC
    ("core.formats",),  # foreign label formats, the import pipeline, the file IO facade
    ("core.layers",),  # how keypoints are drawn: colours, skeleton, layer data, labeled videos
    ("core.engine",),  # the only package that imports deeplabcut or torch
    ("core.refine",),  # outliers, model-assisted labels, the next iteration
    ("core.proofread",),  # identity proofreading: track edits, candidates, safe save
    ("core.example",),  # the synthetic animal
    ("core.batch", "core.workflow"),  # many videos on dask; where a project stands
    ("info", "demo_refine"),
    ("api",),
    ("napari_common",),  # napari-only, Qt-free: what the npe2 plugin and the docks share
    ("plugin", "widgets.common"),
    ("widgets.analysis", "widgets.refine"),  # step pieces that docks below embed
    ("widgets.project", "widgets.preprocess", "widgets.labeling", "widgets.dataset"),
    ("widgets.training", "widgets.overlay"),
    ("widgets.plots", "widgets.proofread"),
    ("widgets.workflow",),
    ("widgets", "viewer"),
    ("demo",),
    ("demo_animals",),  # the multi-animal demo (uses the demo's display helpers)
    ("cli",),
    ("__main__", ""),  # "" is the package's own __init__ (the lazy public API)
)

#: Pairs of package families that never import each other in either direction.
APART = (("plugin", "widgets"),)


@dataclass(frozen=True)
class Import:
    module: str  # dotted name of the importing module
    name: str  # dotted name imported
    line: int
    top_level: bool  # at module level (not inside a function)
    names: tuple[str, ...] = ()  # for ``from name import a, b``: a, b


def _modules(path: list[str], prefix: str) -> list[tuple[str, Path]]:
    """Every module under ``path`` with its source file, without importing any of them."""
    found = []
    for info in pkgutil.iter_modules(path, prefix):
        folder = Path(info.module_finder.path)  # type: ignore[union-attr]
        short = info.name.rsplit(".", 1)[-1]
        if info.ispkg:
            found.append((info.name, folder / short / "__init__.py"))
            found += _modules([str(folder / short)], info.name + ".")
        else:
            found.append((info.name, folder / f"{short}.py"))
    return found


def imports_of(module: str, source: str) -> list[Import]:
    """Every import in ``source`` at any depth: ``import``, ``from ... import``,
    ``importlib.import_module("...")`` and ``__import__("...")`` with a literal name."""
    tree = ast.parse(source)
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            inside.update(id(n) for n in ast.walk(node) if n is not node)
    out = []
    for node in ast.walk(tree):
        names: list[str] = []
        attrs: tuple[str, ...] = ()
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [node.module]
            attrs = tuple(a.name for a in node.names)
        elif (
            isinstance(node, ast.Call)
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and (
                (isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
                or (isinstance(node.func, ast.Name) and node.func.id == "__import__")
            )
        ):
            names = [node.args[0].value]
        out += [Import(module, n, node.lineno, id(node) not in inside, attrs) for n in names]
    return out


def _is(name: str, roots: tuple[str, ...]) -> bool:
    return name.split(".")[0] in roots


def violations(found: list[Import]) -> list[str]:
    """The rules broken by ``found`` imports, one line each."""
    bad = []
    for imp in found:
        engine = imp.module.startswith("napari_dlcflow.core.engine")
        where = f"{imp.module}:{imp.line} imports {imp.name}"
        if _is(imp.name, HEAVY) and not engine:
            bad.append(f"{where} (only core/engine may import deeplabcut or torch)")
        elif _is(imp.name, HEAVY) and imp.top_level:
            bad.append(f"{where} at module level (engine: only inside child-side functions)")
        if imp.module.startswith("napari_dlcflow.core") and _is(imp.name, GUI):
            bad.append(f"{where} (core must not import Qt, napari or GUI toolkits)")
    return bad


def _all_imports() -> tuple[list[str], list[Import]]:
    mods = [("napari_dlcflow", Path(napari_dlcflow.__file__))]
    mods += _modules(list(napari_dlcflow.__path__), "napari_dlcflow.")
    found: list[Import] = []
    for name, path in mods:
        found += imports_of(name, path.read_text(encoding="utf-8"))
    return [m for m, _ in mods], found


def package_of(module: str) -> str | None:
    """The :data:`LAYERS` name that ``module`` belongs to, or None when it has none.

    A name with other names under it (``core``, ``widgets``, the root) holds only its own
    ``__init__``, so a new module must be placed in :data:`LAYERS` by its own package.
    """
    rel = module.removeprefix("napari_dlcflow").removeprefix(".")
    names = [n for row in LAYERS for n in row]
    found = None
    for name in names:
        holds_others = any(m != name and (name == "" or m.startswith(name + ".")) for m in names)
        inside = rel == name or (not holds_others and rel.startswith(name + "."))
        if inside and (found is None or len(name) > len(found)):
            found = name
    return found


def _rank(package: str) -> int:
    return next(i for i, row in enumerate(LAYERS) if package in row)


def _target(imp: Import, modules: set[str]) -> str | None:
    """The module of ours that ``imp`` reaches (``from a import b`` reaches ``a.b`` when that is a
    module), or None for another library."""
    if imp.name.split(".")[0] != "napari_dlcflow":
        return None
    candidates = [f"{imp.name}.{a}" for a in imp.names if f"{imp.name}.{a}" in modules]
    name = candidates[0] if candidates else imp.name
    while name not in modules and "." in name:
        name = name.rsplit(".", 1)[0]
    return name


def layer_violations(modules: list[str], found: list[Import]) -> list[str]:
    """Upward or sideways imports between packages, modules outside :data:`LAYERS`, and
    circles of modules, one line each."""
    known = set(modules)
    bad = [f"{m} is in no package of LAYERS" for m in modules if package_of(m) is None]
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for imp in found:
        target = _target(imp, known)
        if target is None or target == imp.module:
            continue
        graph.setdefault(imp.module, set()).add(target)
        src, dst = package_of(imp.module), package_of(target)
        if src is None or dst is None or src == dst:
            continue
        where = f"{imp.module}:{imp.line} imports {target}"
        if any(
            (src == a or src.startswith(a + ".")) and (dst == b or dst.startswith(b + "."))
            for pair in APART
            for a, b in (pair, pair[::-1])
        ):
            bad.append(f"{where} ({src} and {dst} never import each other)")
        elif _rank(dst) >= _rank(src):
            side = "a package of its own row" if _rank(dst) == _rank(src) else "a higher package"
            bad.append(f"{where} ({dst} is {side} than {src}: imports only point down)")
    bad += [f"circle: {' -> '.join(c)}" for c in _circles(graph)]
    return bad


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_imports_only_point_down_and_make_no_circle() -> None:
    names, found = _all_imports()
    assert layer_violations(names, found) == []


@pytest.mark.parametrize(
    ("module", "source", "expected"),
    [
        ("napari_dlcflow.core.keypoints.x", "from napari_dlcflow.core.labels import x", "high"),
        (
            "napari_dlcflow.core.labels.qc",
            "def f():\n    from napari_dlcflow.core.engine.evaluation import r\n",
            "higher",
        ),
        ("napari_dlcflow.core.batch.x", "from napari_dlcflow.core.workflow import s\n", "own row"),
        ("napari_dlcflow.plugin.x", "from napari_dlcflow.widgets.common import state\n", "never"),
        ("napari_dlcflow.widgets.overlay.x", "from napari_dlcflow.plugin import r\n", "never"),
        ("napari_dlcflow.core.newthing", "import numpy\n", "in no package"),
        ("napari_dlcflow.core", "from napari_dlcflow import api\n", "higher"),
    ],
)
def test_the_layer_check_catches_upward_imports(module: str, source: str, expected: str) -> None:
    modules = [
        module,
        "napari_dlcflow",
        "napari_dlcflow.api",
        "napari_dlcflow.core.labels",
        "napari_dlcflow.core.engine.evaluation",
        "napari_dlcflow.core.workflow",
        "napari_dlcflow.widgets.common",
        "napari_dlcflow.plugin",
    ]
    bad = layer_violations(modules, imports_of(module, source))
    assert len(bad) == 1 and expected in bad[0] and module in bad[0], bad


def test_the_layer_check_catches_a_circle_inside_a_package() -> None:
    a, b = "napari_dlcflow.core.engine.analysis", "napari_dlcflow.core.engine.inference"
    found = imports_of(a, "def f():\n    from napari_dlcflow.core.engine import inference\n")
    found += imports_of(b, "from napari_dlcflow.core.engine.analysis import Spec\n")
    assert layer_violations([a, b], found) == [f"circle: {a} -> {b}"]
    assert layer_violations([a, b], found[:1]) == []


def test_the_walk_finds_every_package_and_module() -> None:
    names, _ = _all_imports()
    root = Path(napari_dlcflow.__file__).parent
    on_disk = {
        ".".join(("napari_dlcflow", *p.relative_to(root).with_suffix("").parts)).removesuffix(
            ".__init__"
        )
        for p in root.rglob("*.py")
        if "__pycache__" not in p.parts
    }
    assert set(names) == on_disk
    for expected in ("napari_dlcflow.core.engine.tasks", "napari_dlcflow.widgets.training.dock"):
        assert expected in names


def test_only_the_engine_imports_deeplabcut_or_torch_and_core_has_no_gui() -> None:
    _, found = _all_imports()
    assert any(_is(i.name, HEAVY) for i in found)  # the engine does import them
    assert violations(found) == []


@pytest.mark.parametrize(
    ("module", "source", "expected"),
    [
        ("napari_dlcflow.info", "def f():\n    import torch\n", "only core/engine"),
        ("napari_dlcflow.core.refine.x", "def f():\n    from deeplabcut import a\n", "only core"),
        ("napari_dlcflow.cli.x", "import importlib\nimportlib.import_module('torch')\n", "only"),
        ("napari_dlcflow.core.engine.x", "import deeplabcut\n", "at module level"),
        ("napari_dlcflow.core.video.x", "def f():\n    from qtpy.QtCore import Qt\n", "core must"),
        ("napari_dlcflow.core.x", "import napari.layers\n", "core must not"),
        ("napari_dlcflow.core.x", "from PySide6 import QtCore\n", "core must not"),
    ],
)
def test_the_check_catches_imports_at_any_depth(module: str, source: str, expected: str) -> None:
    bad = violations(imports_of(module, source))
    assert len(bad) == 1 and expected in bad[0] and module in bad[0]


def test_allowed_imports_pass_the_check() -> None:
    ok = "def f():\n    import torch\n    import deeplabcut\n"
    assert violations(imports_of("napari_dlcflow.core.engine.x", ok)) == []
    assert violations(imports_of("napari_dlcflow.widgets.x", "from qtpy import QtCore\n")) == []


def test_engine_tasks_point_at_existing_functions() -> None:
    import importlib

    for task, target in TASKS.items():
        module, _, name = target.partition(":")
        assert module.startswith("napari_dlcflow.core.engine."), task
        assert callable(getattr(importlib.import_module(module), name)), task


def test_hidden_child_commands_are_not_in_help() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "napari_dlcflow", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0 and "create-dataset" in out.stdout
    for hidden in (ENTRY, "_analyze", "_train", "_dataset", "_devices", "dlc-check", "internal"):
        assert hidden not in out.stdout, hidden


def test_one_option_name_with_deeplabcut_spelling_as_a_hidden_alias() -> None:
    from napari_dlcflow.cli import build_parser

    parser = build_parser()
    for command in ("train", "train-status", "evaluate", "analyze", "predict-frames"):
        extra = ["video.mp4"] if command == "analyze" else []
        args = parser.parse_args([command, "config.yaml", *extra])
        assert (args.shuffle, args.trainset_index) == (None, None), command  # last dataset's
        args = parser.parse_args([command, "c", *extra, "--shuffle", "2", "--trainset-index", "1"])
        assert (args.shuffle, args.trainset_index) == (2, 1), command
    old = parser.parse_args(["analyze", "c", "v.mp4", "--trainingsetindex", "3"])
    assert old.trainset_index == 3
    sub = next(a for a in parser._actions if a.dest == "command")
    assert "--trainingsetindex" not in sub.choices["analyze"].format_help()  # type: ignore[union-attr]


def test_one_error_convention_for_every_task(tmp_path: Path) -> None:
    missing = tmp_path / "no such folder" / "dlcflow-job.json"
    result = run_task("train-worker", job_file=str(missing), timeout=120)
    assert result.returncode == 1
    err = result.last("error")
    assert err is not None
    assert err["type"] == "FileNotFoundError" and err["file"] == str(missing)
    assert err["where"] and ":" in err["where"]
    assert str(missing) in result.reason()

    bad = run_task("evaluate", nonsense=1, timeout=120)  # a bug: wrong arguments
    err = bad.last("error")
    assert bad.returncode == 1 and err is not None and err["type"] == "TypeError"
    assert any("Traceback" in line for line in bad.log)

    unknown = subprocess.run(
        [sys.executable, "-m", "napari_dlcflow", ENTRY, "no-such-task", json.dumps({})],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert unknown.returncode == 2 and "unknown engine task 'no-such-task'" in unknown.stdout
    with pytest.raises(ValueError, match="unknown engine task"):
        run_task("no-such-task")


def test_the_architecture_doc_shows_the_order_and_every_package() -> None:
    """docs/architecture.md draws LAYERS and lists every package; both stay true."""
    import re

    doc = (Path(__file__).resolve().parents[1] / "docs" / "architecture.md").read_text()
    picture = doc.split("The import order, bottom up", 1)[1].split("```")[1]
    for row in LAYERS:
        for name in row:
            if name not in ("", "__main__", "core", "widgets"):
                assert re.search(rf"(?<![\w.]){re.escape(name)}(?![\w.])", picture), name
    tree = doc.split("```", 2)[1]
    root = Path(napari_dlcflow.__file__).parent
    on_disk = {p.name for p in root.rglob("*") if p.is_dir() and (p / "__init__.py").is_file()}
    in_doc = set(re.findall(r"(\w+)/", tree)) - {"src", "napari_dlcflow"}
    assert on_disk == in_doc, (on_disk - in_doc, in_doc - on_disk)
