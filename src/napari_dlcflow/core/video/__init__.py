"""Video and image stacks: probing, frame-exact reading, frame extraction, preprocessing, writing.

Holds the container probe, the lazy frame-exact readers (PyAV, TIFF stacks), extraction of
frames with DeepLabCut's names, ROI crop and contrast preprocessing and labeled-video rendering.
Must not import Qt, napari, deeplabcut or torch.
"""
