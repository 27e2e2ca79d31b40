"""The Analysis step: analyse videos with a trained model (our engine or DeepLabCut's), one
video or a batch on a Dask cluster, with a live table of videos. Embedded in the Overlay dock,
which shows the results. Imports only core and ``widgets.common``."""
