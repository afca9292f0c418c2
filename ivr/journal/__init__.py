"""The call journal: what each call did, without personal data, for the team running the line."""
