"""The contract layer: ``spec/openapi.yaml`` loaded and checked, and requests validated against
it, refusals worded as the real server words them (pydantic's vocabulary)."""
