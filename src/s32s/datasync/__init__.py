"""AWS DataSync: agents, locations, tasks and executions, and the pipeline file.

The library never prompts and never prints: the CLI (`s32s.cli.datasync`)
supplies passwords, confirmations and progress displays. Long operations
(waiting for an agent, an execution or a new IAM role) are poll loops whose
clock and sleep are passed in, so tests run them instantly.
"""
