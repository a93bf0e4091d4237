"""The image producer: a stream of distinct JPEGs into a watched folder or an S3 prefix."""
