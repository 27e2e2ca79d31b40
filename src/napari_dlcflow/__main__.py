"""``python -m napari_dlcflow``: the command line."""

from napari_dlcflow.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
