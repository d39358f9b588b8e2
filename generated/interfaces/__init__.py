# Code generated from openapi.yaml by scripts/generate. DO NOT EDIT.
