"""What belongs to no one domain: health, the home of background heartbeats."""
