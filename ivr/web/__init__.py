"""The thin edge: Twilio's webhooks in, TwiML out."""
