"""Bucket-to-bucket transfers: configs, runs over several endpoints, transfer logs and their HTTP API."""
