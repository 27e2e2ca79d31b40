"""How keypoints are drawn, without Qt: colours, skeleton segments, layer data and styles.

The one presentation policy shared by the docks, the napari readers and the labeled-video
renderer, and the one place that converts napari's (t, y, x) to DeepLabCut's (x, y).
Must not import Qt, napari, deeplabcut or torch (plain numpy, so it is testable headless).
"""
