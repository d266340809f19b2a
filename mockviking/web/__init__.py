"""The web layer: the Flask app built from the contract, the request pipeline, auth, the
handlers per area, and the one table that turns errors into statuses and envelopes."""
