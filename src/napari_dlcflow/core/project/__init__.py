"""The DeepLabCut project on disk: ``config.yaml`` round trip, creation, our sidecar, validation.

Holds :class:`~napari_dlcflow.core.project.config.Project` (the config), project creation, the
``.dlcflow.yaml`` sidecar, the evented open-project model and the project-wide validation report.
Must not import Qt, napari, deeplabcut or torch.
"""
