"""The refine-and-retrain loop: outlier frames, model-assisted labels, the next iteration.

DeepLabCut work (analysing images) is reached only through :mod:`napari_dlcflow.core.engine`.
Must not import Qt, napari, deeplabcut or torch.
"""
