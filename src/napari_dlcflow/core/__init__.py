"""The whole workflow as plain functions and data classes (no Qt, no napari import).

Modules are imported on demand, e.g. ``from napari_dlcflow.core.project.config import Project``.
"""
