"""The results table the comparison benchmarks print: one line per measurement as it is taken,
then all of them as one Markdown table.

Imported by the benchmark scripts, which run from the repository root as
``python benchmarks/<script>.py`` (so this folder is on ``sys.path``); not a benchmark itself.
"""

from __future__ import annotations


class Table:
    """The rows of one benchmark run: what was measured, our figure, the other tools', a note.

    Parameters
    ----------
    other : str
        The heading of the other tool's column (``"DeepLabCut 3"``).
    other_label : str, optional
        Put before the other tools' figures in the progress lines (``"DLC "``).
    more : str, optional
        The headings of further columns (another tool, or the same tool set otherwise); each
        row then gives one figure per column after ours.
    """

    def __init__(self, other: str, other_label: str = "", *more: str) -> None:
        self.others = (other, *more)
        self.other_label = other_label
        self.rows: list[tuple[str, ...]] = []

    def row(self, what: str, ours: str, *figures: str) -> None:
        """Keep one measurement (``figures``: one per other column, then the note) and print
        it at once (a long run shows its progress)."""
        *others, note = figures
        if len(others) != len(self.others):
            raise ValueError(f"{what!r}: {len(others)} figures for {len(self.others)} columns")
        self.rows.append((what, ours, *others, note))
        theirs = " | ".join(f"{self.other_label}{x}" for x in others)
        print(f"  {what}: ours {ours} | {theirs} | {note}", flush=True)

    def markdown(self) -> str:
        """All the rows as a Markdown table, led by a blank line."""
        heads = " | ".join(self.others)
        lines = [
            f"\n| measurement | napari-dlcflow | {heads} | ratio / note |",
            "|---" * (len(self.others) + 3) + "|",
        ]
        lines += ["| " + " | ".join(row) + " |" for row in self.rows]
        return "\n".join(lines)
