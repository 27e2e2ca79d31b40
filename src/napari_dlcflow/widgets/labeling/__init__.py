"""The Labeling dock: frame extraction, labeling in a Points layer, label QC; it embeds the
review of machine labels (``widgets/refine/machine_labels.py``)."""
