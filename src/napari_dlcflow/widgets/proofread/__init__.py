"""The Proofread dock: identity proofreading of multi-animal tracks over the video (the
timeline, the candidates, one-key fixes, safe save)."""
