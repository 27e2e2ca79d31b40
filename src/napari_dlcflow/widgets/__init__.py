"""Dock widgets (Qt). Thin: they read inputs, call :mod:`napari_dlcflow.core`, update layers."""
