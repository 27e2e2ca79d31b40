"""The DeepLabCut engine: the only package that imports deeplabcut or torch.

Dataset creation, training, evaluation, analysis, device discovery and DeepLabCut's own config
check. The heavy imports happen only inside functions that run in a child or worker process,
reached through the one hidden child entry point (``python -m napari_dlcflow _engine ...``);
importing these modules from the viewer is cheap. Must not import Qt or napari.
"""
