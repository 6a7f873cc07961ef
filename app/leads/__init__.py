"""Interests and the leads they become: the pipeline a city follows to signing and operation."""
