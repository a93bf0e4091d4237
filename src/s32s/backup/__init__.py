"""Snapshots of a folder or an S3 prefix in an S3 backup location (DESIGN §3 "Backups")."""
