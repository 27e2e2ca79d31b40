"""What every dock shares: the dock frame, dialogs, the viewer's project state, screenshots."""
