"""The Training dock: launch and follow training, evaluate snapshots."""
