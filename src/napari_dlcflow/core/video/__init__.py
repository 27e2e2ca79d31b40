"""Video and image stacks: probing, frame-exact reading, frame extraction, preprocessing, writing.

Holds the container probe, the lazy frame-exact readers (PyAV, TIFF stacks, image folders: one
reader each, one suffix list each), extraction of frames with DeepLabCut's names, ROI crop and
contrast preprocessing and the one video writer. Imports only safe_io and untrusted; rendering
keypoints onto a video is ``core/layers/labeled_video.py``. Must not import Qt, napari,
deeplabcut or torch.
"""
