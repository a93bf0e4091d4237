"""Everything that talks to AWS goes through `s32s.aws.clients`."""
