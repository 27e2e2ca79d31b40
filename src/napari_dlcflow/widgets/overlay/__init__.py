"""The Overlay dock: predicted tracks over the video, filter, export; it embeds the Analysis
step (``widgets/analysis``) and the outlier-frame panel (``widgets/refine``)."""
