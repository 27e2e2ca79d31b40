"""A DeepLabCut project's ``config.yaml``: open, check, edit and save it without surprises.

The config is kept as a ruamel.yaml round-trip document, so a save keeps comments, blank lines,
key order and every value the user did not edit byte for byte. We never add a key that
DeepLabCut's config model does not know (it rejects unknown keys); our own settings live in the
sidecar file (:mod:`napari_dlcflow.core.project.sidecar`). Opening never writes anything, not even
a
stale ``project_path``: that is reported and repaired only when asked.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from napari_dlcflow.core.safe_io import atomic_write
from napari_dlcflow.core.untrusted import PARSER_ERRORS, quoted, shorten

__all__ = [
    "DLC_CONFIG_KEYS",
    "ConfigChangedOnDiskError",
    "ConfigError",
    "Project",
    "check_names",
    "find_config",
]

#: Every top-level key DeepLabCut 3.0.x accepts in ``config.yaml`` (its pydantic model forbids
#: others), including the two legacy aliases and ``config_version``.
DLC_CONFIG_KEYS: frozenset[str] = frozenset(
    [
        "config_version",
        "Task",
        "scorer",
        "date",
        "multianimalproject",
        "identity",
        "with_identity",
        "project_path",
        "pose_config_path",
        "engine",
        "video_sets",
        "bodyparts",
        "individuals",
        "uniquebodyparts",
        "unique_bodyparts",
        "multianimalbodyparts",
        "start",
        "stop",
        "numframes2pick",
        "skeleton",
        "skeleton_color",
        "pcutoff",
        "dotsize",
        "alphavalue",
        "colormap",
        "TrainingFraction",
        "iteration",
        "default_net_type",
        "default_augmenter",
        "default_track_method",
        "snapshotindex",
        "detector_snapshotindex",
        "batch_size",
        "detector_batch_size",
        "cropping",
        "x1",
        "x2",
        "y1",
        "y2",
        "corner2move2",
        "move2corner",
        "SuperAnimalConversionTables",
        "resnet",
        "croppedtraining",
    ]
)

RESERVED_INDIVIDUAL = "single"


class ConfigError(ValueError):
    """``config.yaml`` cannot be used as it is.

    Parameters
    ----------
    path : path-like
        The config file.
    problem : str
        What is wrong, in words a user understands.
    line : int, optional
        1-based line number in the file, when known.
    """

    def __init__(self, path: str | os.PathLike, problem: str, line: int | None = None) -> None:
        self.path = Path(path)
        self.problem = problem
        self.line = line
        where = f"{self.path}, line {line}" if line else str(self.path)
        super().__init__(f"{where}: {problem}")


class ConfigChangedOnDiskError(RuntimeError):
    """Another program changed ``config.yaml`` after we read it; saving would overwrite that."""


def _yaml() -> Any:
    from ruamel.yaml import YAML

    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.width = 4096
    y.indent(mapping=2, sequence=2, offset=0)
    return y


def find_config(path: str | os.PathLike) -> Path:
    """Return the ``config.yaml`` of a project given the file itself or the project folder.

    Raises
    ------
    FileNotFoundError
        If there is no ``config.yaml`` there.
    """
    p = Path(path)
    if p.is_dir():
        p = p / "config.yaml"
    if not p.is_file():
        raise FileNotFoundError(f"No DeepLabCut config.yaml at {p}")
    return p


def _is_project_config(cfg: Path) -> bool:
    """Whether ``cfg`` is a file that reads like a DeepLabCut project config (never raises)."""
    if cfg.name.lower() not in ("config.yaml", "config.yml") or not cfg.is_file():
        return False
    try:
        with open(cfg, encoding="utf-8", errors="replace") as fh:
            head = fh.read(20000)
    except OSError:
        return False
    return "Task:" in head and "bodyparts" in head  # sniffed, not parsed


def project_of(path: str | os.PathLike) -> Path | None:
    """The ``config.yaml`` of the DeepLabCut project that ``path`` belongs to, or None.

    The one rule for "which project owns this file": a project config is itself; otherwise
    ``config.yaml`` is looked for in the folder of ``path`` (``path`` itself when it is a
    folder) and one folder up (a project folder's ``videos/``, an analysis file beside its
    video), and two folders up inside ``labeled-data/<video>/``. Only a file that reads like
    a DeepLabCut config counts (it names a ``Task`` and ``bodyparts``). Never raises.
    """
    p = Path(path).resolve()
    if p.name.lower() in ("config.yaml", "config.yml"):
        return p if _is_project_config(p) else None
    here = p if p.is_dir() else p.parent
    folders = [here, here.parent]
    if here.parent.name == "labeled-data":
        folders.append(here.parent.parent)
    for folder in folders:
        if _is_project_config(folder / "config.yaml"):
            return folder / "config.yaml"
    return None


def check_names(kind: str, names: Sequence[Any]) -> list[str]:
    """Check a list of body parts or individuals and return it as ``list[str]``.

    Parameters
    ----------
    kind : str
        What the names are, for the message (``"body part"``, ``"individual"``).
    names : sequence
        The names.

    Raises
    ------
    ValueError
        On an empty or non-string name, a duplicate, a name with a comma or newline, or an
        individual called ``single`` (DeepLabCut's reserved name for unique body parts).
    """
    out: list[str] = []
    for n in names:
        if not isinstance(n, str) or not n.strip():
            raise ValueError(f"Empty or invalid {kind} name: {quoted(n)}")
        if n != n.strip() or any(c in n for c in ",\n\r\t"):
            raise ValueError(
                f"{kind.capitalize()} name {quoted(n)} has spaces at its ends, a comma or a "
                "newline"
            )
        out.append(n)
    counts = Counter(out)
    dupes = sorted(n for n, k in counts.items() if k > 1)
    if dupes:
        raise ValueError(f"Duplicate {kind} names: {shorten(', '.join(dupes))}")
    if kind == "individual" and RESERVED_INDIVIDUAL in out:
        raise ValueError(
            f"An individual cannot be named {RESERVED_INDIVIDUAL!r}: DeepLabCut reserves it "
            "for unique body parts"
        )
    return out


def _line_of(doc: Any, key: str) -> int | None:
    try:
        return int(doc.lc.key(key)[0]) + 1
    except (AttributeError, KeyError, TypeError):
        return None


def _set_seq(doc: Any, key: str, values: Iterable[Any]) -> None:
    """Replace a list value, keeping the comment and blank lines that followed the old list."""
    from ruamel.yaml.comments import CommentedSeq

    new = CommentedSeq(list(values))
    old = doc.get(key)
    if isinstance(old, CommentedSeq) and len(old) and len(new):
        tail = old.ca.items.get(len(old) - 1)
        if tail is not None:
            new.ca.items[len(new) - 1] = tail
    if not len(new):
        new.fa.set_flow_style()
    doc[key] = new


def _pair_seq(a: str, b: str) -> Any:
    from ruamel.yaml.comments import CommentedSeq

    s = CommentedSeq([a, b])
    s.fa.set_block_style()
    return s


#: Longest line accepted in ``config.yaml``: the YAML parser is slow on huge lines (a
#: 2-million-character comment took 46 s) and no setting needs one.
MAX_LINE_CHARS = 65_536
#: Deepest bracket nesting accepted (the parser recurses per level).
MAX_NESTING = 64
#: Values that YAML aliases may repeat in one setting: DeepLabCut never writes aliases, and a
#: few nested ones ("billion laughs") expand to billions of values.
MAX_ALIAS_REPEATS = 100_000

_STR_KEYS = (
    "Task", "scorer", "date", "skeleton_color", "colormap", "default_net_type",
    "default_augmenter", "default_track_method", "project_path", "pose_config_path",
)  # fmt: skip
_BOOL_KEYS = (
    "multianimalproject", "identity", "with_identity", "cropping", "move2corner",
    "croppedtraining",
)  # fmt: skip
_FRACTION_KEYS = ("start", "stop", "pcutoff", "alphavalue")
_NONNEG_INT_KEYS = ("numframes2pick", "dotsize", "iteration", "x1", "x2", "y1", "y2")
_POS_INT_KEYS = ("batch_size", "detector_batch_size")


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    import math

    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _type_problem(key: str, value: Any) -> str | None:
    """Why ``value`` is not a valid ``key`` for DeepLabCut 3, or None if it is (None = unset)."""
    if value is None:
        return None
    if key in _STR_KEYS:
        if isinstance(value, (dict, list)):
            return f"{key} must be a single value, got a {type(value).__name__}"
    elif key in _BOOL_KEYS:
        if not isinstance(value, bool):
            return f"{key} must be true or false, got {quoted(value)}"
    elif key in _FRACTION_KEYS:
        if not _is_number(value) or not 0.0 <= value <= 1.0:
            return f"{key} must be a number between 0 and 1, got {quoted(value)}"
    elif key in _NONNEG_INT_KEYS:
        if not _is_int(value) or value < 0:
            return f"{key} must be a whole number, 0 or more, got {quoted(value)}"
    elif key in _POS_INT_KEYS:
        if not _is_int(value) or value < 1:
            return f"{key} must be a whole number, 1 or more, got {quoted(value)}"
    elif key == "engine":
        if value not in ("pytorch", "tensorflow"):
            return f"engine must be pytorch or tensorflow, got {quoted(value)}"
    elif key == "snapshotindex":
        if not (_is_int(value) or value == "all"):
            return f"snapshotindex must be a whole number or 'all', got {quoted(value)}"
    elif key in ("detector_snapshotindex", "resnet"):
        if not _is_int(value):
            return f"{key} must be a whole number, got {quoted(value)}"
    elif key == "TrainingFraction":
        if not isinstance(value, list) or not value:
            return (
                f"TrainingFraction must be a list of numbers between 0 and 1, got {quoted(value)}"
            )
        bad = [v for v in value if not _is_number(v) or not 0.0 < v <= 1.0]
        if bad:
            return f"TrainingFraction values must be numbers in (0, 1], got {quoted(bad[0])}"
    elif key == "skeleton":
        if not isinstance(value, list):
            return f"skeleton must be a list of [bodypart, bodypart] pairs, got {quoted(value)}"
        for e in value:
            if not (isinstance(e, list) and len(e) == 2 and all(isinstance(n, str) for n in e)):
                return f"skeleton edge {quoted(e)} is not a pair of body part names"
    elif key == "corner2move2":
        if not (isinstance(value, list) and all(_is_int(v) and v >= 0 for v in value)):
            return f"corner2move2 must be a list of whole numbers, got {quoted(value)}"
    elif key == "SuperAnimalConversionTables":
        if not isinstance(value, dict):
            return f"SuperAnimalConversionTables must be a mapping, got {quoted(value)}"
    elif key == "video_sets":
        return _video_sets_problem(value)
    return None


def _video_sets_problem(value: Any) -> str | None:
    from napari_dlcflow.core.video.extract import parse_crop

    if not isinstance(value, dict):
        return f"video_sets must be a mapping of video path to its crop, got {quoted(value)}"
    for video, entry in value.items():
        if not isinstance(video, str):
            return f"video_sets: {quoted(video)} is not a video path"
        if entry is None:
            continue
        if not isinstance(entry, dict):
            return (
                f"video_sets: the entry of {shorten(video)} must be a mapping (crop: ...), "
                f"got {quoted(entry)}"
            )
        crop = entry.get("crop")
        if crop in (None, ""):
            continue
        try:
            parse_crop(crop if isinstance(crop, (str, list)) else [crop])
        except (TypeError, ValueError, OverflowError):
            return (
                f"video_sets: crop of {shorten(video)} must be 'x1, x2, y1, y2' in pixels, "
                f"got {quoted(crop)}"
            )
    return None


def _key_text(key: Any) -> str:
    return shorten(key) if isinstance(key, str) else quoted(key, 60)


def _container_children(value: Any) -> list[Any] | None:
    """The elements of a parsed YAML collection (keys and values of a mapping), or None for a
    scalar."""
    if isinstance(value, dict):
        return [*value.keys(), *value.values()]
    if isinstance(value, (list, tuple, set, frozenset)):
        return list(value)
    return None


def _alias_expansion(value: Any) -> tuple[int, int]:
    """How many values ``value`` holds once YAML aliases are expanded, and how many it holds
    once each shared collection is counted once (what the file spells out).

    A round-trip load keeps an alias as a second reference to the same object, so loading an
    alias bomb is cheap; what explodes is anything that walks the value (its ``repr`` in an
    error message, a copy, a loop over skeleton edges). Counting with a memo per collection
    costs one visit per distinct collection. A collection that contains itself counts as
    infinitely large.

    Returns
    -------
    (int, int)
        Expanded count (may be astronomically large; ``-1`` for a cycle), distinct count.
    """
    children = _container_children(value)
    if children is None:
        return 1, 1
    sizes: dict[int, int] = {}
    distinct = 0
    on_path = {id(value)}
    stack: list[tuple[Any, Iterator[Any], list[int]]] = [(value, iter(children), [1])]
    while stack:
        node, items, acc = stack[-1]
        for child in items:
            grand = _container_children(child)
            if grand is None:
                acc[0] += 1
                distinct += 1
            elif id(child) in sizes:
                acc[0] += sizes[id(child)]
            elif id(child) in on_path:
                return -1, distinct
            else:
                on_path.add(id(child))
                stack.append((child, iter(grand), [1]))
                break
        else:
            stack.pop()
            on_path.discard(id(node))
            sizes[id(node)] = acc[0]
            distinct += 1
            if stack:
                stack[-1][2][0] += acc[0]
    return sizes[id(value)], distinct


def _check_aliases(path: Path, doc: Any) -> None:
    """Refuse a value that YAML aliases blow up (a "billion laughs" bomb), or that contains
    itself, naming its key's line."""
    for key in doc:
        expanded, distinct = _alias_expansion(doc[key])
        if expanded < 0:
            raise ConfigError(
                path,
                f"{_key_text(key)} contains itself through a YAML alias: this is not a "
                "DeepLabCut config",
                _line_of(doc, key),
            )
        if expanded - distinct > MAX_ALIAS_REPEATS:
            raise ConfigError(
                path,
                f"{_key_text(key)}: YAML aliases expand its {distinct:,} values to "
                f"{expanded:,} (at most {MAX_ALIAS_REPEATS:,} repeated): this is not a "
                "DeepLabCut config",
                _line_of(doc, key),
            )


def _scan_text(path: Path, text: str) -> None:
    """Refuse, before parsing, what would make the YAML parser crawl or recurse too deep."""
    depth = deepest = 0
    deepest_line = 1
    for n, line in enumerate(text.splitlines(), 1):
        if len(line) > MAX_LINE_CHARS:
            raise ConfigError(
                path,
                f"a line of {len(line):,} characters (at most {MAX_LINE_CHARS:,}): "
                "this is not a DeepLabCut config",
                n,
            )
        if line.lstrip().startswith("#"):
            continue
        for c in line:
            if c in "[{":
                depth += 1
                if depth > deepest:
                    deepest, deepest_line = depth, n
            elif c in "]}":
                depth = max(depth - 1, 0)
    if deepest > MAX_NESTING:
        raise ConfigError(
            path, f"values nested {deepest} deep (at most {MAX_NESTING})", deepest_line
        )


def _line_of_long_number(text: str) -> int | None:
    """The line of the first run of more than 4,300 digits (Python refuses to read it)."""
    m = re.search(r"\d{4301,}", text)
    return text.count("\n", 0, m.start()) + 1 if m else None


class Project:
    """An open DeepLabCut project: its ``config.yaml`` as an editable round-trip document.

    Use :meth:`open` or :func:`napari_dlcflow.core.project.create.create_project`; edits go
    through the
    properties and methods, which check them first, and :meth:`save` writes atomically with a
    backup.

    Parameters
    ----------
    config_path : Path
        The ``config.yaml``.
    text : str
        Its content as read.
    """

    def __init__(self, config_path: Path, text: str) -> None:
        self.config_path = Path(config_path)
        self._disk_sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
        self._doc = self._parse(text)
        self.dirty = False
        self._validate()

    # ------------------------------------------------------------------ loading
    @classmethod
    def open(cls, path: str | os.PathLike) -> Project:
        """Read a project from its ``config.yaml`` or its folder. Never writes anything.

        Raises
        ------
        FileNotFoundError
            If there is no config there.
        ConfigError
            If the file is not valid YAML, not a mapping, has keys DeepLabCut rejects,
            duplicate body parts or individuals, or an individual named ``single``.
        """
        cfg = find_config(path)
        raw = cfg.read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ConfigError(cfg, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
        return cls(cfg, text)

    def _parse(self, text: str) -> Any:
        from ruamel.yaml.error import MarkedYAMLError, YAMLError

        _scan_text(self.config_path, text)
        try:
            doc = _yaml().load(io.StringIO(text))
        except RecursionError:
            raise ConfigError(self.config_path, "invalid YAML: values nested too deeply") from None
        except MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark is not None else None
            problem = shorten(" ".join(str(p) for p in (exc.context, exc.problem) if p))
            raise ConfigError(self.config_path, f"invalid YAML: {problem}", line) from exc
        except YAMLError as exc:
            raise ConfigError(self.config_path, f"invalid YAML: {shorten(exc)}") from exc
        except PARSER_ERRORS as exc:
            # what ruamel's constructors raise on odd input: a whole number of more than
            # 4,300 digits (ValueError), a merge key that refers to itself (AttributeError)
            line = _line_of_long_number(text) if "digits" in str(exc) else None
            problem = f"invalid YAML ({type(exc).__name__}: {shorten(exc)})"
            raise ConfigError(self.config_path, problem, line) from None
        if not hasattr(doc, "keys"):
            raise ConfigError(self.config_path, "not a YAML mapping of settings")
        _check_aliases(self.config_path, doc)
        return doc

    def _validate(self) -> None:
        doc = self._doc
        unknown = [k for k in doc if k not in DLC_CONFIG_KEYS]
        if unknown:
            k = unknown[0]
            raise ConfigError(
                self.config_path,
                f"unknown key {quoted(k)}: DeepLabCut rejects keys it does not know "
                f"({len(unknown)} unknown: {shorten(', '.join(map(_key_text, unknown[:20])))})",
                _line_of(doc, k),
            )
        for key in doc:
            problem = _type_problem(str(key), doc[key])
            if problem:
                raise ConfigError(self.config_path, problem, _line_of(doc, key))
        for key, kind in (
            ("bodyparts", "body part"),
            ("multianimalbodyparts", "body part"),
            ("uniquebodyparts", "unique body part"),
            ("individuals", "individual"),
        ):
            value = doc.get(key)
            if key == "bodyparts" and (value == "MULTI!" or value is None):
                continue
            if key == "individuals" and not self.multianimal:
                continue
            if value is None:
                continue
            if not isinstance(value, list):
                raise ConfigError(
                    self.config_path, f"{key} must be a list, got {value!r}", _line_of(doc, key)
                )
            try:
                check_names(kind, value)
            except ValueError as exc:
                raise ConfigError(self.config_path, str(exc), _line_of(doc, key)) from exc
        overlap = set(self.bodyparts) & set(self.unique_bodyparts)
        if self.multianimal and overlap:
            raise ConfigError(
                self.config_path,
                f"body parts listed both as multi-animal and unique: {', '.join(sorted(overlap))}",
                _line_of(doc, "uniquebodyparts"),
            )
        if not self.multianimal and doc.get("bodyparts") == "MULTI!":
            raise ConfigError(
                self.config_path,
                "bodyparts is MULTI! but multianimalproject is not true",
                _line_of(doc, "bodyparts"),
            )

    # ------------------------------------------------------------------ identity
    @property
    def root(self) -> Path:
        """The project folder (where ``config.yaml`` is)."""
        return self.config_path.parent

    @property
    def task(self) -> str:
        return str(self._doc.get("Task") or "")

    @property
    def scorer(self) -> str:
        return str(self._doc.get("scorer") or "")

    @property
    def date(self) -> str:
        return str(self._doc.get("date") or "")

    @property
    def multianimal(self) -> bool:
        return bool(self._doc.get("multianimalproject"))

    def get(self, key: str, default: Any = None) -> Any:
        """Read any config value as stored (read-only view)."""
        return self._doc.get(key, default)

    # ------------------------------------------------------------------ body parts
    @property
    def bodyparts(self) -> list[str]:
        """Body parts that every individual has (``multianimalbodyparts`` in a multi-animal
        project, ``bodyparts`` otherwise)."""
        key = "multianimalbodyparts" if self.multianimal else "bodyparts"
        return [str(b) for b in (self._doc.get(key) or [])]

    @bodyparts.setter
    def bodyparts(self, names: Sequence[str]) -> None:
        kind = "body part"
        new = check_names(kind, names)
        if self.multianimal:
            clash = set(new) & set(self.unique_bodyparts)
            if clash:
                raise ValueError(f"Already unique body parts: {', '.join(sorted(clash))}")
            _set_seq(self._doc, "multianimalbodyparts", new)
        else:
            _set_seq(self._doc, "bodyparts", new)
        self._drop_dangling_edges()
        self.dirty = True

    @property
    def unique_bodyparts(self) -> list[str]:
        """Body parts that occur once per frame, not per individual (multi-animal only)."""
        return [str(b) for b in (self._doc.get("uniquebodyparts") or [])]

    @unique_bodyparts.setter
    def unique_bodyparts(self, names: Sequence[str]) -> None:
        if not self.multianimal:
            raise ValueError("Unique body parts exist only in multi-animal projects")
        new = check_names("unique body part", names)
        clash = set(new) & set(self.bodyparts)
        if clash:
            raise ValueError(f"Already multi-animal body parts: {', '.join(sorted(clash))}")
        _set_seq(self._doc, "uniquebodyparts", new)
        self._drop_dangling_edges()
        self.dirty = True

    @property
    def individuals(self) -> list[str]:
        """Individuals of a multi-animal project (empty for single-animal projects)."""
        if not self.multianimal:
            return []
        return [str(i) for i in (self._doc.get("individuals") or [])]

    @individuals.setter
    def individuals(self, names: Sequence[str]) -> None:
        if not self.multianimal:
            raise ValueError("Individuals exist only in multi-animal projects")
        new = check_names("individual", names)
        if not new:
            raise ValueError("A multi-animal project needs at least one individual")
        _set_seq(self._doc, "individuals", new)
        self.dirty = True

    @property
    def all_bodyparts(self) -> list[str]:
        """Body parts then unique body parts: every name a skeleton edge may use."""
        return self.bodyparts + self.unique_bodyparts

    def rename_bodypart(self, old: str, new: str) -> None:
        """Rename a body part everywhere in the config, skeleton edges included."""
        edges = [(new if a == old else a, new if b == old else b) for a, b in self.skeleton]
        if old in self.unique_bodyparts:
            self.unique_bodyparts = [new if b == old else b for b in self.unique_bodyparts]
        elif old in self.bodyparts:
            self.bodyparts = [new if b == old else b for b in self.bodyparts]
        else:
            raise ValueError(f"No body part named {old!r}")
        self.skeleton = edges

    # ------------------------------------------------------------------ skeleton & display
    @property
    def skeleton(self) -> list[tuple[str, str]]:
        """Skeleton edges as pairs of body part names."""
        edges = self._doc.get("skeleton") or []
        return [(str(e[0]), str(e[1])) for e in edges if len(e) == 2]

    @skeleton.setter
    def skeleton(self, edges: Iterable[Sequence[str]]) -> None:
        known = set(self.all_bodyparts)
        seen: set[frozenset[str]] = set()
        clean: list[tuple[str, str]] = []
        for e in edges:
            a, b = (str(x) for x in e)
            if a == b:
                raise ValueError(
                    f"A skeleton edge needs two different body parts, got {a!r} twice"
                )
            for n in (a, b):
                if n not in known:
                    raise ValueError(f"Skeleton edge {a}-{b}: no body part named {n!r}")
            key = frozenset((a, b))
            if key in seen:
                raise ValueError(f"Skeleton edge {a}-{b} is already there")
            seen.add(key)
            clean.append((a, b))
        _set_seq(self._doc, "skeleton", [_pair_seq(a, b) for a, b in clean])
        self.dirty = True

    def add_edge(self, a: str, b: str) -> None:
        """Add the skeleton edge ``a``-``b``."""
        self.skeleton = [*self.skeleton, (a, b)]

    def remove_edge(self, a: str, b: str) -> None:
        """Remove the skeleton edge ``a``-``b`` (in either direction)."""
        key = {a, b}
        kept = [e for e in self.skeleton if set(e) != key]
        if len(kept) == len(self.skeleton):
            raise ValueError(f"There is no skeleton edge {a}-{b}")
        self.skeleton = kept

    def _drop_dangling_edges(self) -> None:
        known = set(self.all_bodyparts)
        edges = self.skeleton
        kept = [e for e in edges if e[0] in known and e[1] in known]
        if len(kept) != len(edges):
            self.skeleton = kept

    @property
    def colormap(self) -> str:
        return str(self._doc.get("colormap") or "rainbow")

    @colormap.setter
    def colormap(self, name: str) -> None:
        if not isinstance(name, str) or not name:
            raise ValueError(f"Invalid colormap name {name!r}")
        self._doc["colormap"] = name
        self.dirty = True

    @property
    def pcutoff(self) -> float:
        return float(self._doc.get("pcutoff", 0.6) or 0.0)

    @pcutoff.setter
    def pcutoff(self, value: float) -> None:
        v = float(value)
        if not 0.0 <= v <= 1.0:
            raise ValueError(f"pcutoff must be between 0 and 1, got {v}")
        self._doc["pcutoff"] = v
        self.dirty = True

    @property
    def dotsize(self) -> int:
        return int(self._doc.get("dotsize", 12) or 0)

    @dotsize.setter
    def dotsize(self, value: int) -> None:
        v = int(value)
        if v < 0:
            raise ValueError(f"dotsize must be 0 or more, got {v}")
        self._doc["dotsize"] = v
        self.dirty = True

    # ------------------------------------------------------------------ videos
    @property
    def videos(self) -> dict[str, str]:
        """``video_sets`` as ``{video path: crop string "x1, x2, y1, y2"}``."""
        vs = self._doc.get("video_sets") or {}
        return {str(k): str((v or {}).get("crop", "")) for k, v in vs.items()}

    def set_video(self, path: str | os.PathLike, width: int, height: int) -> None:
        """Add (or update) a video entry with a full-frame crop of ``width`` x ``height``."""
        from ruamel.yaml.comments import CommentedMap

        vs = self._doc.get("video_sets")
        if not isinstance(vs, dict):
            vs = CommentedMap()
            self._doc["video_sets"] = vs
        entry = CommentedMap()
        entry["crop"] = f"0, {int(width)}, 0, {int(height)}"
        vs[str(path)] = entry
        self.dirty = True

    def set_video_crop(self, path: str | os.PathLike, x1: int, x2: int, y1: int, y2: int) -> None:
        """Set the ``crop`` of a listed video (DeepLabCut's ``x1, x2, y1, y2`` in pixels)."""
        vs = self._doc.get("video_sets") or {}
        if str(path) not in vs:
            raise ValueError(f"{path} is not a video of this project")
        if not (0 <= int(x1) < int(x2) and 0 <= int(y1) < int(y2)):
            raise ValueError(
                f"Invalid crop {x1}, {x2}, {y1}, {y2}: need 0 <= x1 < x2, 0 <= y1 < y2"
            )
        vs[str(path)]["crop"] = f"{int(x1)}, {int(x2)}, {int(y1)}, {int(y2)}"
        self.dirty = True

    def remove_video(self, path: str | os.PathLike) -> None:
        """Remove a video entry from ``video_sets`` (the file itself is left alone)."""
        vs = self._doc.get("video_sets") or {}
        if str(path) not in vs:
            raise ValueError(f"{path} is not a video of this project")
        del vs[str(path)]
        self.dirty = True

    @property
    def iteration(self) -> int:
        """``iteration``: the refinement round (names ``iteration-<N>`` folders)."""
        return int(self._doc.get("iteration") or 0)

    @iteration.setter
    def iteration(self, value: int) -> None:
        if int(value) < 0:
            raise ValueError(f"iteration must be 0 or more, got {value}")
        self._doc["iteration"] = int(value)
        self.dirty = True

    @property
    def training_fractions(self) -> list[float]:
        """``TrainingFraction``: the train/test splits DeepLabCut makes datasets for."""
        return [float(f) for f in (self._doc.get("TrainingFraction") or [])]

    @training_fractions.setter
    def training_fractions(self, values: Sequence[float]) -> None:
        vals = [float(v) for v in values]
        if not vals or any(not 0.0 < v < 1.0 for v in vals):
            raise ValueError(f"Training fractions must be between 0 and 1, got {vals}")
        _set_seq(self._doc, "TrainingFraction", vals)
        self.dirty = True

    # ------------------------------------------------------------------ project_path
    @property
    def project_path(self) -> str:
        """``project_path`` as stored in the file."""
        return str(self._doc.get("project_path") or "")

    @property
    def project_path_ok(self) -> bool:
        """Whether ``project_path`` names the folder the config really is in."""
        stored = self.project_path
        if not stored:
            return False
        try:
            return Path(stored).resolve() == self.root.resolve()
        except OSError:
            return False

    def repair_project_path(self) -> None:
        """Point ``project_path`` at the folder the config is in (saved on :meth:`save`)."""
        self._doc["project_path"] = str(self.root.resolve())
        self.dirty = True

    # ------------------------------------------------------------------ writing
    def to_text(self) -> str:
        """The config as YAML text, exactly as :meth:`save` would write it."""
        buf = io.StringIO()
        _yaml().dump(self._doc, buf)
        return buf.getvalue()

    def changed_on_disk(self) -> bool:
        """Whether the file on disk differs from what we read or last saved."""
        try:
            now = hashlib.sha256(self.config_path.read_bytes()).hexdigest()
        except OSError:
            return True
        return now != self._disk_sha

    def save(self, *, force: bool = False) -> Path | None:
        """Write ``config.yaml`` atomically, keeping the previous version as a backup.

        Parameters
        ----------
        force : bool, default False
            Overwrite even if another program changed the file since we read it.

        Returns
        -------
        Path or None
            The backup of the previous file.

        Raises
        ------
        ConfigChangedOnDiskError
            If the file changed on disk since it was read, or was deleted, and ``force`` is
            False (a deleted config is never silently recreated).
        napari_dlcflow.core.safe_io.SaveError
            If writing fails; the file on disk is then unchanged.
        """
        if not force and not self.config_path.exists():
            raise ConfigChangedOnDiskError(
                f"{self.config_path} was deleted or moved by another program after it was "
                "opened. Save anyway to write it there again, or open the project where it is now."
            )
        if not force and self.changed_on_disk():
            raise ConfigChangedOnDiskError(
                f"{self.config_path} was changed by another program after it was opened. "
                "Reload it, or save anyway to overwrite those changes."
            )
        text = self.to_text()
        self._validate()
        made = atomic_write(self.config_path, text)
        self._disk_sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
        self.dirty = False
        return made

    def reload(self) -> None:
        """Discard unsaved edits and read the file again."""
        fresh = Project.open(self.config_path)
        self._doc, self._disk_sha, self.dirty = fresh._doc, fresh._disk_sha, False

    def __repr__(self) -> str:
        kind = "multi-animal" if self.multianimal else "single-animal"
        return f"Project({self.config_path}, {kind}, {len(self.all_bodyparts)} body parts)"
