"""DeepLabCut analysis output: the predictions model, analysis files, filtering, skeleton measures.

Also the names of DeepLabCut's output files of a video and scorer, and a snapshot's predictions
beside the labels (``evaluated.EvalFrames``, filled by the engine, read by label QC). Imports
only keypoints, safe_io, untrusted and video. Must not import Qt, napari, deeplabcut or torch.
"""
