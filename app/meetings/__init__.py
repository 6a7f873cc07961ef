"""One-to-one meetings between attendees and presenters, and fairs' meeting days."""
