"""France Services near a postcode: the shipped data, its lookup, and what the line says about it."""
