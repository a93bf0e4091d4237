"""`s32s bucket setup`: a thin layer over `s32s.aws.bucketsetup`."""

from __future__ import annotations

import click

from s32s.cli.app import App, pass_app


@click.group("bucket")
def bucket_group() -> None:
    """Bucket settings for backups."""


@bucket_group.command("setup")
@click.argument("bucket_path", metavar="s3://BUCKET")
@click.option("--versioning", is_flag=True, help="Turn versioning on.")
@click.option(
    "--encryption",
    metavar="AES256|aws:kms[:KEY_ID]",
    help="Default encryption of new objects (SSE-S3, or SSE-KMS with an optional key id).",
)
@click.option(
    "--expire",
    multiple=True,
    metavar="PREFIX=DAYS",
    help="Expire objects under PREFIX DAYS days after they were written (lifecycle rule). Repeatable.",
)
@click.option("--block-public-access", is_flag=True, help="Block every form of public access.")
@click.option("--dry-run", is_flag=True, help="Show what would change; change nothing.")
@pass_app
def setup_command(
    app: App,
    bucket_path: str,
    versioning: bool,
    encryption: str | None,
    expire: tuple[str, ...],
    block_public_access: bool,
    dry_run: bool,
) -> None:
    """Set BUCKET up for backups, changing only what is not already so.

    Each setting is read first; only those that differ are changed, and
    the output says which. Running it twice changes nothing the second time.
    """
    from s32s.aws.bucketsetup import settings_from_options, setup_bucket
    from s32s.aws.clients import aws_errors
    from s32s.paths import parse_s3_url

    url = parse_s3_url(bucket_path, what="bucket")
    settings = settings_from_options(versioning, encryption, expire, block_public_access)
    with aws_errors(bucket=url.bucket, endpoint=app.factory.endpoint_url):
        report = setup_bucket(app.factory.s3(), url.bucket, settings, dry_run=dry_run)
    if app.json_output:
        app.emit_json(report.to_dict())
        return
    prefix = "(dry run) would change" if dry_run else "changed"
    for change in report.changes:
        click.echo(f"{prefix} {change.setting}: {change.current} → {change.wanted}")
    for name in report.unchanged:
        click.echo(f"already so: {name}")
