"""The refine-and-retrain step, in one place: the outlier-frame panel (Overlay dock), the review
of machine labels (Labeling dock) and the iterations section (Project and Workflow docks).
Each piece is embedded by the dock that shows it; they import only core and ``widgets.common``
(the Labeling dock is reached through :class:`~napari_dlcflow.widgets.common.labeling_host.
LabelingHost`)."""
