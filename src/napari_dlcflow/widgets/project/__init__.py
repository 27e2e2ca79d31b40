"""The Project dock: create or open a project, edit body parts and skeleton; it embeds the
iterations section (``widgets/refine/iterations.py``)."""
