"""Where a project stands in the loop, read from disk, and which step should come next.

Holds :func:`~napari_dlcflow.core.workflow.status.workflow_status`, the Qt-free model behind
the workflow dock's step headers ("Labeling: 86 of 90 frames, 17 body parts"). It only reads
files (cheaply: no image decoding, no DeepLabCut import), so a dock can refresh it often.
Must not import Qt, napari, deeplabcut or torch.
"""
