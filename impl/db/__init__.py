"""Persistence: the tables (one MetaData) and the database handle."""
