"""Parks, plots and incentives that cities offer, projects' site needs, and the matcher."""
