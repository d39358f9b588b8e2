"""The implementations of the generated interfaces; they know no HTTP."""
