"""Series, fairs, tracks, sessions, registrations, scheduling rules and calendar feeds."""
