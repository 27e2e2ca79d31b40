"""The Labeling dock: frame extraction, labeling in a Points layer, review of machine labels."""
