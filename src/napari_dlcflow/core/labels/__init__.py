"""Keypoint labels: the ``CollectedData`` model and IO, machine labels, imports, editing sessions.

Holds the labels data model, reading and writing ``CollectedData`` h5/csv atomically, the
``machinelabels-iter<N>`` files, autosave recovery, importing foreign labels into a project and
the Qt-free label editing session (undo/redo, accept, what a save changes).
Must not import Qt, napari, deeplabcut or torch.
"""
