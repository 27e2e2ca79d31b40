"""The validation report of the Dataset dock: blocking problems, warnings, image sizes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from qtpy.QtGui import QBrush, QColor
from qtpy.QtWidgets import QTreeWidget, QTreeWidgetItem, QWidget

from napari_dlcflow.core.labels.validation import ValidationReport

if TYPE_CHECKING:
    from napari_dlcflow.core.project.config import Project

__all__ = ["ReportView"]

RED = QColor(235, 90, 90)
AMBER = QColor(230, 180, 60)
GREEN = QColor(110, 200, 110)


class ReportView(QTreeWidget):
    """A tree: summary, blocking problems, warnings, image sizes per folder."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setHeaderHidden(True)
        self.setMinimumHeight(170)
        self.report: ValidationReport | None = None

    def show_report(self, report: ValidationReport, project: Project | None = None) -> None:
        """Replace the tree with ``report`` (and, given ``project``, the label check's count)."""
        self.report = report
        self.clear()
        frames = sum(report.labeled_frames.values())
        points = sum(report.labeled_points.values())
        head = QTreeWidgetItem(
            [
                f"{frames} labeled frames, {points} points in {len(report.labeled_frames)} folders"
                + (" — ready for export" if report.ok else " — export blocked")
            ]
        )
        head.setForeground(0, QBrush(GREEN if report.ok else RED))
        self.addTopLevelItem(head)
        if project is not None:  # issue 16: likely labeling mistakes, before a dataset is made
            from napari_dlcflow.core.engine.evaluation import latest_frames
            from napari_dlcflow.core.labels.qc import check_labels

            try:
                found = check_labels(project, evaluation=latest_frames(project.config_path))
                n = sum(f.mistake for f in found)  # notes are not mistakes
            except ValueError as exc:  # LabelsError: the report above names the file
                n, why = -1, str(exc)
            qc = QTreeWidgetItem(
                [f"Label check: {n} likely mistake(s) (Labeling dock)" if n >= 0 else why]
            )
            qc.setForeground(0, QBrush(AMBER if n else GREEN))
            self.addTopLevelItem(qc)
        for title, issues, color in (
            (f"Blocking problems ({len(report.problems)})", report.problems, RED),
            (f"Warnings ({len(report.warnings)})", report.warnings, AMBER),
        ):
            if not issues:
                continue
            top = QTreeWidgetItem([title])
            top.setForeground(0, QBrush(color))
            self.addTopLevelItem(top)
            for issue in issues:
                item = QTreeWidgetItem([issue.describe(max_items=3)])
                item.setToolTip(0, "\n".join(issue.items[:50]) or issue.message)
                item.setForeground(0, QBrush(color))
                for it in issue.items[:20]:
                    item.addChild(QTreeWidgetItem([it]))
                if len(issue.items) > 20:
                    item.addChild(QTreeWidgetItem([f"… {len(issue.items) - 20} more"]))
                top.addChild(item)
            top.setExpanded(True)
        sizes = QTreeWidgetItem(["Image sizes per folder"])
        self.addTopLevelItem(sizes)
        for folder, by_size in report.image_sizes.items():
            desc = ", ".join(f"{w}×{h}: {n}" for (h, w), n in by_size.items()) or "no images"
            sizes.addChild(QTreeWidgetItem([f"{folder}: {desc}"]))
        sizes.setExpanded(True)

    def lines(self) -> list[str]:
        """Every row's text, depth-first (for tests and logs)."""
        out: list[str] = []

        def walk(item: QTreeWidgetItem) -> None:
            out.append(item.text(0))
            for i in range(item.childCount()):
                walk(item.child(i))

        for i in range(self.topLevelItemCount()):
            walk(self.topLevelItem(i))
        return out
