"""napari adapters named in ``napari.yaml``: readers, the labels writer and sample data.

They turn files into layer data through :mod:`napari_dlcflow.core` and never import Qt at module
level (npe2 imports them lazily); readers return ``None`` for files they do not handle.
"""
