"""Projects that presenters pitch, their material and its storage."""
