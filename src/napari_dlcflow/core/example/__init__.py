"""The built-in example: a synthetic articulated animal with known keypoints, and its project.

Must not import Qt, napari, deeplabcut or torch.
"""
