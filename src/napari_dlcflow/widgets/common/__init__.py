"""What every dock shares: the dock frame, dialogs, the job runner, the one shortcut table, the
Labeling dock's interface to its sections, screenshots. The viewer's project state is
``napari_common.state_for_viewer`` (shared with the npe2 readers)."""
