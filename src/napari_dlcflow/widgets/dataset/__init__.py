"""The Dataset dock: import labels from other tools, validate, create the training dataset."""
