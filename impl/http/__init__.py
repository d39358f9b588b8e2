"""The HTTP edge: problem+json for domain errors, the documentation routes, and uvicorn's protocol answering
in problem+json what it answers by itself (protocol)."""
