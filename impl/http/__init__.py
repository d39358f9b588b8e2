"""The HTTP edge: problem+json for domain errors, and the documentation routes."""
