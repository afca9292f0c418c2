"""The result by SMS: the message, its length in SMS segments, and who sends it."""
