"""The team's side: the dashboard at /admin/ and /metrics, behind HTTP Basic auth."""
