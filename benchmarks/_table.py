"""The results table the comparison benchmarks print: one line per measurement as it is taken,
then all of them as one Markdown table.

Imported by the benchmark scripts, which run from the repository root as
``python benchmarks/<script>.py`` (so this folder is on ``sys.path``); not a benchmark itself.
"""

from __future__ import annotations


class Table:
    """The rows of one benchmark run: what was measured, our figure, the other tool's, a note.

    Parameters
    ----------
    other : str
        The heading of the other tool's column (``"DeepLabCut 3"``).
    other_label : str, optional
        Put before the other tool's figure in the progress lines (``"DLC "``).
    """

    def __init__(self, other: str, other_label: str = "") -> None:
        self.other = other
        self.other_label = other_label
        self.rows: list[tuple[str, str, str, str]] = []

    def row(self, what: str, ours: str, other: str, note: str) -> None:
        """Keep one measurement and print it at once (a long run shows its progress)."""
        self.rows.append((what, ours, other, note))
        print(f"  {what}: ours {ours} | {self.other_label}{other} | {note}", flush=True)

    def markdown(self) -> str:
        """All the rows as a Markdown table, led by a blank line."""
        lines = [
            f"\n| measurement | napari-dlcflow | {self.other} | ratio / note |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| {what} | {ours} | {other} | {note} |" for what, ours, other, note in self.rows
        ]
        return "\n".join(lines)
