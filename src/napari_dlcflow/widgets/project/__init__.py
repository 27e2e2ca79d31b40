"""The Project dock: create or open a project, edit body parts and skeleton, iterations."""
