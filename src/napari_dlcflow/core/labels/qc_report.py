"""Label QC output: a plain-text table, CSV text and a one-line summary of the findings."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from napari_dlcflow.core.labels.qc_finding import Finding
from napari_dlcflow.core.untrusted import MAX_QUOTED, shorten

__all__ = ["findings_csv", "format_findings", "summary"]


_CSV_FIELDS = (
    "severity",
    "kind",
    "folder",
    "image",
    "individual",
    "other",
    "bodyparts",
    "score",
    "reason",
    "why",
    "key",
)


def _counts(findings: Sequence[Finding]) -> str:
    counts: dict[str, int] = {}
    for f in findings:
        counts[f.kind] = counts.get(f.kind, 0) + 1
    return ", ".join(f"{k} {n}" for k, n in counts.items())


def summary(findings: Sequence[Finding], hidden_notes: int = 0) -> str:
    """One line: likely mistakes and notes, counted per kind.

    Examples
    --------
    >>> summary([Finding("swap", "v", "a.png", "", ("l", "r"), 2.0, "")], hidden_notes=3)
    '1 likely mistake: swap 1; 3 notes not shown'
    """
    mistakes = [f for f in findings if f.mistake]
    notes = [f for f in findings if not f.mistake]
    n = len(mistakes)
    line = f"{n} likely mistake{'' if n == 1 else 's'}" + (f": {_counts(mistakes)}" if n else "")
    if notes:
        line += f"; {len(notes)} note{'' if len(notes) == 1 else 's'}: {_counts(notes)}"
    if hidden_notes:
        line += f"; {hidden_notes} note{'' if hidden_notes == 1 else 's'} not shown"
    return line


def format_findings(
    findings: Sequence[Finding],
    width: int | None = None,
    hidden_notes: int = 0,
    notes: Sequence[str] = (),
) -> str:
    """The findings as a plain-text table (one line each), the count per severity and kind,
    why each kind shown matters (one sentence per kind and severity), then the run-level
    ``notes`` (views found from the positions), once each.

    Names come from the label files, so each cell is shortened: a damaged file's 200,000-
    character image name gives a line of a few hundred characters, not a screenful.
    ``hidden_notes`` is the number of notes left out (said in the count line).
    """
    tail = [shorten(n, 400) for n in dict.fromkeys(notes)]
    if not findings:
        hidden = f" ({hidden_notes} notes not shown)" if hidden_notes else ""
        return "\n".join(["no likely mistakes" + hidden, *tail])
    head = f"{'severity':<8} {'kind':<10} {'folder/image':<32} {'body parts':<24}"
    lines = [f"{head} {'score':>7}  reason"]
    for f in findings:
        who = "+".join(f.bodyparts)
        if f.individual:
            who = f"{f.individual}:{who}"
        if f.other:
            who = f"{who} ({f.other})"
        place = shorten(f.folder + "/" + f.image, 120)
        line = (
            f"{f.severity:<8} {f.kind:<10} {place:<32} {shorten(who, 80):<24} {f.score:>7.2f}  "
            f"{shorten(f.reason, 2 * MAX_QUOTED)}"
        )
        lines.append(line if width is None or len(line) <= width else line[: width - 3] + "...")
    lines.append(summary(findings, hidden_notes))
    seen: dict[tuple[str, str], str] = {}
    for f in findings:
        seen.setdefault((f.kind, f.severity), f.why)
    lines.extend(f"why {kind} ({sev}): {why}" for (kind, sev), why in seen.items())
    return "\n".join(lines + tail)


def findings_csv(findings: Sequence[Finding]) -> str:
    """The findings as CSV text (header ``severity,kind,folder,image,individual,other,
    bodyparts,score,reason,why,key``; body parts joined with ``+``)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(_CSV_FIELDS)
    for f in findings:
        w.writerow(
            [
                f.severity,
                f.kind,
                f.folder,
                f.image,
                f.individual,
                f.other,
                "+".join(f.bodyparts),
                f.score,
                f.reason,
                f.why,
                f.key,
            ]
        )
    return buf.getvalue()
