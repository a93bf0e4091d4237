"""Snowball Edge set-up: unlock a device, fetch its keys, write an AWS profile.

A *Snowball folder* (DESIGN §2) holds the job's `*manifest.bin` and
`sbe_config.yaml` (`unlock_key`, `endpoint_url`). From it:

- `device.unlock_device` runs the `snowballEdge` client's `unlock-device`,
  polls `describe-device` until the device is UNLOCKED, then fetches the
  access key and its secret and writes `keys.yaml` (mode 0600);
- `profile.write_profile` turns `keys.yaml` into a named profile in the AWS
  shared credentials and config files (region `snow`);
- `device.configure_client` answers the prompts of `snowballEdge configure`;
- `setup.run_setup` runs the three in order.

The `snowballEdge` client itself is wrapped by `client.SnowballClient`.
"""
