"""Keypoint labels: the ``CollectedData`` model and IO, machine labels, editing sessions, QC.

Holds the labels data model, reading and writing ``CollectedData`` h5/csv atomically, the
``machinelabels-iter<N>`` files, autosave recovery, the Qt-free label editing session
(undo/redo, accept), what a save changes (``changes``), label QC and the project-wide
validation report. Imports only keypoints, safe_io, untrusted, video, project and predictions
(``tests/test_boundaries.py``: LAYERS); importing foreign labels is ``core/formats``, above it.
Must not import Qt, napari, deeplabcut or torch.
"""
