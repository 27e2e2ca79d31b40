"""The Preprocess dock: ROI crop and contrast enhancement of videos and TIFF stacks."""
