"""The whole workflow as plain functions and data classes (no Qt, no napari import).

Modules are imported on demand, e.g. ``from napari_dlcflow.core.project.config import Project``.
The package's version lives here, at the bottom, so that any module may name it.
"""

__version__ = "0.1.0"
