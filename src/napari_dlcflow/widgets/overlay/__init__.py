"""The Overlay dock: analyse videos, overlay predicted tracks, filter, export, outlier frames."""
