"""The DeepLabCut project on disk: ``config.yaml`` round trip, creation, our sidecar.

Holds :class:`~napari_dlcflow.core.project.config.Project` (the config), ``project_of`` (the one
rule for which project owns a file), project creation, the ``dlcflow.yaml`` sidecar and the
evented open-project model. Imports only safe_io and video (below it); the validation of a
project's labels is ``core/labels/validation.py``. Must not import Qt, napari, deeplabcut or
torch.
"""
