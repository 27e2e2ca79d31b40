"""The workflow dock: every step of the loop in one dock, with live status and the next step."""
