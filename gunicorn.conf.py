"""gunicorn reads this file from the working directory: the app's logging and metrics hooks."""

from ivr.observe.gunicorn import child_exit, log_config, metrics_folder, on_starting

metrics_folder()
logconfig_dict = log_config()
__all__ = ["child_exit", "logconfig_dict", "on_starting"]
