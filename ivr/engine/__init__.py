"""The call logic: plain Python over immutable models, no web framework, no Twilio."""
