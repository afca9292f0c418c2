"""gunicorn reads this file from the working directory: the app's logging and metrics hooks."""

from ivr.observe.gunicorn import child_exit, metrics_folder, on_starting

metrics_folder()
__all__ = ["child_exit", "on_starting"]
