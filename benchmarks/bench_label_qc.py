"""Label quality control on real projects with seeded, injected mistakes.

Real projects, none made here:

- ``openfield``: DeepLabCut's openfield example (116 images, 4 body parts, single animal),
  ``../shared/data/dlc-openfield``;
- ``flies``: SLEAP's ``tracks/clip.slp`` (two flies, 13 body parts), every 10th of its 1,500
  labeled frames imported into a multi-animal DeepLabCut project (150 images), once, into the
  work folder (``../shared/data/sleap-tests``);
- ``reaching``: DeepLabCut's Reaching example (``examples/Reaching-Mackenzie-2018-08-30`` of
  github.com/DeepLabCut/DeepLabCut; 5 body parts, 55 images), path given by ``--reaching``;
- ``mirror-mouse``: Lightning Pose's ``data/mirror-mouse-example`` (github.com/paninski-lab/
  lightning-pose; 17 body parts in a top and a bottom mirror view of one image, 90 images),
  imported into a DeepLabCut project, path given by ``--mirror-mouse``.

A project whose path is absent is skipped with a line saying so.

For each seed and each kind of mistake, ``--per-kind`` mistakes are injected into a copy of the
labels (each in its own image): ``swap`` (a left/right pair exchanged), ``displaced`` (a point
moved 0.5-1.5 body sizes), ``duplicate`` (a body part put on another one, within 0.5 px),
``leftover`` (a point left where it was in the previous labeled image, where the animal's part
really moved by at least 0.1 body sizes), ``outside`` (a point 1-20 px outside the image) and,
in multi-animal projects, ``identity`` (two animals' labels exchanged in one image). Then
:func:`~napari_dlcflow.core.labels.qc.check_labels` runs and we count

- found: injected mistakes with a *likely mistake* (not a note) of the expected kind on that
  image and body part (``displaced``: ``misplaced``, ``skeleton``, ``crossed`` or ``views``);
- likely mistakes on untouched images per 20 images: all of them, and those not already found
  on the unmodified project (the latter are what the injection added; the former include real
  findings of the data, listed with ``--baseline``).

Run: ``.venv/bin/python benchmarks/bench_label_qc.py [--seeds 1 2 3] [--baseline]
[--reaching PATH] [--mirror-mouse PATH] [--geometry-only]``. Thresholds were tuned on seed 0
only; report other seeds. ``--geometry-only`` runs the checks without the image evidence
(``QCSettings.appearance``), to compare.
"""

from __future__ import annotations

import argparse
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
INJECT = ("swap", "displaced", "duplicate", "leftover", "outside", "identity")
EXPECT = {
    "swap": {"swap"},
    "displaced": {"misplaced", "skeleton", "crossed", "views"},
    "duplicate": {"duplicate"},
    "leftover": {"leftover"},
    "outside": {"outside"},
    "identity": {"identity"},
}


@dataclass(frozen=True)
class Injected:
    kind: str
    folder: str
    image: str
    individual: str
    parts: tuple[str, ...]
    prev: str = ""  # leftover: the image the point was left from


# ---------------------------------------------------------------------------------- projects
def openfield_project(work: Path) -> Path:
    """The openfield project's config and labels, images linked (never copied into the repo)."""
    dest = work / "openfield"
    if not (dest / "config.yaml").is_file():
        src = SHARED / "dlc-openfield"
        (dest / "labeled-data").mkdir(parents=True, exist_ok=True)
        shutil.copy(src / "config.yaml", dest / "config.yaml")
        for folder in (src / "labeled-data").iterdir():
            out = dest / "labeled-data" / folder.name
            out.mkdir(exist_ok=True)
            for f in folder.iterdir():
                if f.suffix == ".png":
                    (out / f.name).symlink_to(f.resolve())
                else:
                    shutil.copy(f, out / f.name)
            for f in out.iterdir():
                if not f.is_symlink():
                    f.chmod(0o644)
    return dest


def copied_project(src: Path, dest: Path) -> Path:
    """A DeepLabCut project's config and labels, images linked (never copied into the repo)."""
    if not (dest / "config.yaml").is_file():
        (dest / "labeled-data").mkdir(parents=True, exist_ok=True)
        shutil.copy(src / "config.yaml", dest / "config.yaml")
        for folder in (src / "labeled-data").iterdir():
            out = dest / "labeled-data" / folder.name
            out.mkdir(exist_ok=True)
            for f in folder.iterdir():
                if f.suffix == ".png":
                    (out / f.name).symlink_to(f.resolve())
                elif f.is_file():
                    shutil.copy(f, out / f.name)
                    (out / f.name).chmod(0o644)
    return dest


def reaching_project(src: Path, work: Path) -> Path:
    """The Reaching example, its joystick declared a scene part as a user would (sidecar
    ``label_qc: scene_parts``): the joystick moves when pushed, so it is not found from the
    motion, and it is not part of the mouse's shape."""
    from napari_dlcflow.core.project.sidecar import Sidecar

    root = copied_project(src, work / "reaching")
    side = Sidecar.load(root)
    side.label_qc = {**side.label_qc, "scene_parts": ["Joystick1", "Joystick2"]}
    side.save(root)
    return root


def imported_project(source: Path, name: str, work: Path) -> Path:
    """A foreign label file (Lightning Pose CSV, SLEAP...) imported into a new project (cached)."""
    from napari_dlcflow.core.formats import read_foreign
    from napari_dlcflow.core.formats.importing import import_labels, new_project_for

    done = work / f"{name}.done"
    if done.is_file():
        return Path(done.read_text().strip())
    fl = read_foreign(source)
    folder = work / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    project = new_project_for(fl, name, "bench", folder)
    import_labels(fl, project)
    done.write_text(str(project.root))
    return project.root


def flies_project(work: Path, step: int = 10) -> Path:
    """SLEAP's clip.slp, every ``step``-th labeled frame, imported as a DLC project (cached)."""
    from napari_dlcflow.core.formats import ForeignLabels, read_foreign
    from napari_dlcflow.core.formats.importing import import_labels, new_project_for

    done = work / "flies.done"
    if done.is_file():
        return Path(done.read_text().strip())
    fl = read_foreign(SHARED / "sleap-tests" / "tracks" / "clip.slp")
    keep = list(range(0, len(fl.frames), step))
    sub = ForeignLabels(
        format=fl.format,
        source=fl.source,
        keypoints=fl.keypoints,
        frames=[fl.frames[i] for i in keep],
        xy=fl.xy[keep],
        multianimal=fl.multianimal,
        skeleton=fl.skeleton,
        scorer=fl.scorer,
    )
    folder = work / "flies"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    project = new_project_for(sub, "flies", "sleap", folder)
    import_labels(sub, project)
    done.write_text(str(project.root))
    return project.root


# ---------------------------------------------------------------------------------- injection
def _poses(tables: dict[str, object]) -> list[tuple[str, int, str, list[int]]]:
    """``(folder, row, individual, columns)`` of every animal in every image, rows in frame
    order within a folder."""
    from napari_dlcflow.core.labels.qc import _frame_number

    out = []
    for folder, labels in tables.items():
        inds = list(dict.fromkeys(i for i, _ in labels.keypoints))  # type: ignore[attr-defined]
        order = sorted(
            range(len(labels.images)),  # type: ignore[attr-defined]
            key=lambda r: _frame_number(labels.images[r][-1]),  # type: ignore[attr-defined]
        )
        for r in order:
            for ind in inds:
                if ind == "single":
                    continue
                cols = [k for k, (i, _) in enumerate(labels.keypoints) if i == ind]  # type: ignore[attr-defined]
                out.append((folder, r, ind, cols))
    return out


def _size(pts: np.ndarray) -> float:
    q = pts[np.isfinite(pts).all(axis=1)]
    return float(np.sqrt(np.mean(np.sum((q - q.mean(axis=0)) ** 2, axis=1)))) if len(q) else 0.0


def inject(
    tables: dict, kind: str, n: int, rng: np.random.Generator, sizes: dict
) -> list[Injected]:
    """Put ``n`` mistakes of ``kind`` into ``tables`` (``{folder: Labels}``, changed in place),
    each in another image."""
    from napari_dlcflow.core.labels.qc import symmetric_pairs
    from napari_dlcflow.core.labels.qc_views import split_views

    poses = _poses(tables)
    prev: dict[int, int] = {}
    nxt: dict[int, int] = {}
    last: dict[tuple[str, str], int] = {}
    for n_, (folder, _, ind, _) in enumerate(poses):
        if (folder, ind) in last:
            prev[n_] = last[(folder, ind)]
            nxt[last[(folder, ind)]] = n_
        last[(folder, ind)] = n_
    used: set[tuple[str, int]] = set()
    out: list[Injected] = []
    for n_ in rng.permutation(len(poses)):
        if len(out) >= n:
            break
        folder, r, ind, cols = poses[n_]
        if (folder, r) in used:
            continue
        labels = tables[folder]
        xy = labels.xy
        parts = [labels.keypoints[k][1] for k in cols]
        have = [k for k in cols if np.isfinite(xy[r, k]).all()]
        if len(have) < 3:
            continue
        # several views in one image (a mirror): sizes and duplicates within a view
        view_of = {p: v for v, ps in split_views(parts).items() for p in ps}
        image = labels.images[r][-1]
        h, w = sizes[(folder, image)]
        keypoints = labels.keypoints

        def bp(k: int, keypoints: list = keypoints) -> str:
            return keypoints[k][1]

        if kind == "swap":
            pairs = [
                (cols[parts.index(a)], cols[parts.index(b)])
                for a, b in symmetric_pairs(parts)
                if cols[parts.index(a)] in have and cols[parts.index(b)] in have
            ]
            if not pairs:
                continue
            a, b = pairs[rng.integers(len(pairs))]
            xy[r, [a, b]] = xy[r, [b, a]]
            got = (bp(a), bp(b))
        elif kind == "displaced":
            k = have[rng.integers(len(have))]
            size = _size(xy[r, [c for c in cols if view_of[bp(c)] == view_of[bp(k)]]])
            for _ in range(50):
                d = rng.uniform(0.5, 1.5) * size
                t = rng.uniform(0, 2 * np.pi)
                new = xy[r, k] + d * np.array([np.cos(t), np.sin(t)])
                if 1 < new[0] < w - 1 and 1 < new[1] < h - 1:
                    break
            else:
                continue
            xy[r, k] = new
            got = (bp(k),)
        elif kind == "duplicate":
            a = have[rng.integers(len(have))]
            same = [c for c in have if c != a and view_of[bp(c)] == view_of[bp(a)]]
            if not same:
                continue
            b = same[rng.integers(len(same))]
            xy[r, b] = xy[r, a] + rng.normal(0, 0.5 / np.sqrt(2), 2)
            got = (bp(a), bp(b))
        elif kind == "leftover":
            if n_ not in prev:
                continue
            pf, pr, _, pcols = poses[prev[n_]]
            size = _size(xy[r, cols])
            cand = [
                (k, pk)
                for k, pk in zip(cols, pcols, strict=True)
                if k in have
                and np.isfinite(xy[pr, pk]).all()
                and np.linalg.norm(xy[r, k] - xy[pr, pk]) > 0.1 * size
            ]
            if not cand:
                continue
            k, pk = cand[rng.integers(len(cand))]
            xy[r, k] = xy[pr, pk]
            got = (bp(k),)
            used.add((pf, pr))  # the previous image must stay as it is
        elif kind == "identity":
            others = [i for i in dict.fromkeys(i for i, _ in labels.keypoints) if i != ind]
            others = [o for o in others if o != "single"]
            if not others:
                continue
            other = others[rng.integers(len(others))]
            ocols = [labels.keypoints.index((other, bp(k))) for k in cols]
            if sum(np.isfinite(xy[r, k]).all() for k in ocols) < 3:
                continue
            xy[r, cols + ocols] = xy[r, ocols + cols]
            got = (other,)
        elif kind == "outside":
            k = have[rng.integers(len(have))]
            side = rng.integers(4)
            off = rng.uniform(1, 20)
            xy[r, k] = [
                (-off, xy[r, k, 1]),
                (w + off, xy[r, k, 1]),
                (xy[r, k, 0], -off),
                (xy[r, k, 0], h + off),
            ][side]
            got = (bp(k),)
        else:
            raise ValueError(kind)
        used.add((folder, r))
        src = labels.images[pr][-1] if kind == "leftover" else ""
        if kind == "identity" and n_ in nxt:
            src = labels.images[poses[nxt[n_]][1]][-1]  # the image after: it sees the swap too
        out.append(Injected(kind, folder, image, ind, got, src))
    return out


def _hit(m: Injected, findings: Sequence) -> bool:
    for f in findings:
        if f.kind not in EXPECT[m.kind] or not f.mistake:
            continue
        if m.kind == "identity":
            pair = {f.individual, f.other}
            # found where it was made, or as the swap back in the next image
            if pair == {m.individual, m.parts[0]} and f.image in (m.image, m.prev):
                return True
            continue
        if (f.folder, f.image, f.individual) != (m.folder, m.image, m.individual):
            continue
        if m.kind in ("swap", "duplicate"):
            if set(m.parts) <= set(f.bodyparts):
                return True
        elif m.parts[0] in f.bodyparts:
            return True
    return False


def _image_sizes(root: Path, tables: dict) -> dict:
    from napari_dlcflow.core.labels.qc import _image_size

    return {
        (folder, row[-1]): _image_size(root / "labeled-data" / folder / row[-1])
        for folder, labels in tables.items()
        for row in labels.images
    }


def run(
    root: Path, seeds: Sequence[int], per_kind: int = 8, settings: object = None
) -> dict[str, dict[str, float]]:
    """Inject and check on the project at ``root`` (its labels are restored at the end).

    Returns
    -------
    dict
        Per injected kind: ``injected``, ``found``, ``recall``, ``untouched`` (images),
        ``fp_all`` and ``fp_new`` (likely mistakes on untouched images per 20 images).
    """
    from napari_dlcflow.core.labels.collected import load_folder, write_labels
    from napari_dlcflow.core.labels.qc import check_labels
    from napari_dlcflow.core.project.config import Project

    project = Project.open(root / "config.yaml")
    folders = sorted(p for p in (root / "labeled-data").iterdir() if p.is_dir())
    original = {f.name: load_folder(f) for f in folders}
    original = {k: v for k, v in original.items() if v is not None}
    sizes = _image_sizes(root, original)
    baseline = {f.key for f in check_labels(project, settings=settings) if f.mistake}
    kept = {  # the label files as they are, put back byte for byte at the end
        f: f.read_bytes()
        for folder in folders
        for f in folder.rglob("*")
        if f.is_file() and not f.is_symlink() and f.suffix.lower() != ".png"
    }
    stats = {
        k: {"injected": 0, "found": 0, "untouched": 0, "fp_all": 0, "fp_new": 0} for k in INJECT
    }
    try:
        for seed in seeds:
            for n, kind in enumerate(INJECT):
                rng = np.random.default_rng([seed, n])
                tables = {k: v.copy() for k, v in original.items()}
                truth = inject(tables, kind, per_kind, rng, sizes)
                for folder, labels in tables.items():
                    write_labels(labels, root / "labeled-data" / folder, keep=1)
                findings = check_labels(project, settings=settings)
                touched = {(m.folder, m.image) for m in truth}
                # the image a leftover came from is not untouched either
                touched |= {(m.folder, m.prev) for m in truth if m.prev}
                s = stats[kind]
                s["injected"] += len(truth)
                s["found"] += sum(_hit(m, findings) for m in truth)
                n_images = sum(len(t.images) for t in tables.values())
                s["untouched"] += n_images - len(touched & set(sizes))
                rest = [f for f in findings if f.mistake and (f.folder, f.image) not in touched]
                s["fp_all"] += len(rest)
                s["fp_new"] += sum(f.key not in baseline for f in rest)
    finally:
        for folder in folders:
            for f in list(folder.rglob("*")):
                new = f not in kept and f.suffix.lower() != ".png"
                if new and f.is_file() and not f.is_symlink():
                    f.unlink()  # backups made while injecting
            for d in sorted((d for d in folder.rglob("*") if d.is_dir()), reverse=True):
                if not any(d.iterdir()):
                    d.rmdir()
        for f, data in kept.items():
            f.write_bytes(data)
    for s in stats.values():
        s["recall"] = s["found"] / s["injected"] if s["injected"] else float("nan")
        per = 20.0 / s["untouched"] if s["untouched"] else float("nan")
        s["fp_all_per20"] = s["fp_all"] * per
        s["fp_new_per20"] = s["fp_new"] * per
    return stats


def table(name: str, stats: dict[str, dict[str, float]]) -> str:
    """One project's counts per injected kind (kinds with nothing injected are left out)."""
    lines = [
        f"{name}",
        f"{'kind':<10} {'injected':>8} {'found':>6} {'recall':>7} "
        f"{'new/20 untouched':>17} {'all/20 untouched':>17}",
    ]
    for kind, s in stats.items():
        if not s["injected"]:
            continue
        lines.append(
            f"{kind:<10} {s['injected']:>8d} {s['found']:>6d} {s['recall']:>7.0%} "
            f"{s['fp_new_per20']:>17.2f} {s['fp_all_per20']:>17.2f}"
        )
    return "\n".join(lines)


def project_paths(args: argparse.Namespace, work: Path) -> dict[str, Path | str]:
    """Each project's root, or a line saying why it is skipped."""
    makers = {
        "openfield": (SHARED / "dlc-openfield", openfield_project),
        "flies": (SHARED / "sleap-tests" / "tracks" / "clip.slp", flies_project),
        "reaching": (
            Path(args.reaching) if args.reaching else None,
            lambda w: reaching_project(Path(args.reaching), w),
        ),
        "mirror-mouse": (
            Path(args.mirror_mouse) / "CollectedData.csv" if args.mirror_mouse else None,
            lambda w: imported_project(
                Path(args.mirror_mouse) / "CollectedData.csv", "mirror-mouse", w
            ),
        ),
    }
    out: dict[str, Path | str] = {}
    for name in args.projects:
        src, make = makers[name]
        if src is None:
            out[name] = f"skipped {name}: give its path (--{name} PATH)"
        elif not src.exists():
            out[name] = f"skipped {name}: {src} not found"
        else:
            out[name] = make(work)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    from napari_dlcflow.core.labels.qc import QCSettings, check_labels, format_findings
    from napari_dlcflow.core.project.config import Project

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--per-kind", type=int, default=8)
    ap.add_argument("--work", default=os.environ.get("TMPDIR", "/tmp") + "/dlcflow-bench-qc")
    ap.add_argument(
        "--projects",
        nargs="+",
        default=["openfield", "flies", "reaching", "mirror-mouse"],
        choices=["openfield", "flies", "reaching", "mirror-mouse"],
    )
    ap.add_argument(
        "--reaching", help="DeepLabCut's examples/Reaching-Mackenzie-2018-08-30 folder"
    )
    ap.add_argument("--mirror-mouse", help="Lightning Pose's data/mirror-mouse-example folder")
    ap.add_argument("--baseline", action="store_true", help="list findings on unmodified data")
    ap.add_argument(
        "--geometry-only", action="store_true", help="without the image evidence (to compare)"
    )
    args = ap.parse_args(argv)
    settings = QCSettings(appearance=not args.geometry_only)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    for name, root in project_paths(args, work).items():
        if isinstance(root, str):
            print(root)
            continue
        if args.baseline:
            found = check_labels(Project.open(root / "config.yaml"), settings=settings)
            print(f"== {name}: findings on the unmodified labels ({root})")
            print(format_findings(found))
        stats = run(root, args.seeds, args.per_kind, settings)
        print(table(f"== {name}, seeds {args.seeds}, {args.per_kind} per kind and seed", stats))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
