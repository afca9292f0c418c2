"""What the team running the line watches: request logs and Prometheus metrics."""
