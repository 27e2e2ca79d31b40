"""How keypoints are drawn, without Qt: colours, skeleton segments, layer data and styles.

The one presentation policy shared by the docks, the napari readers, the sample data and the
labeled-video renderer, and the one place that converts napari's (t, y, x) to DeepLabCut's
(x, y):

- ``coords``: (t, y, x) <-> (x, y).
- ``colors``: the one colour rule (a colour per body part, or per individual, from the
  project's colormap).
- ``skeleton``: which columns an edge joins and the segments of every frame.
- ``style``: layer style dataclasses (``as_kwargs``) and a project's display settings.
- ``data``: napari LayerData tuples of predictions, ground truth, label files and the labels
  being edited.
- ``labeled_video``: keypoints drawn onto a video (DeepLabCut's ``create_labeled_video``).

Must not import Qt, napari, deeplabcut or torch (plain numpy, so it is testable headless).
"""
