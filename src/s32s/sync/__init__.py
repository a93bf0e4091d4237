"""The sync engine: Store listings → plan → execute → Report.

One engine serves local → S3 (push), S3 → local (pull), S3 → S3 (transfer)
and local → local. It never prints and never prompts: callers render plans,
ask for confirmation and draw progress from the events it sends.
"""
