"""DeepLabCut analysis output: the predictions model, analysis files, filtering, skeleton measures.

Must not import Qt, napari, deeplabcut or torch.
"""
