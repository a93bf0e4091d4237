"""`s32s demo`: a full master → S3 → slave round trip on an embedded local S3 endpoint."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import replace
from pathlib import Path

import click

from s32s.cli.app import App, end_with, pass_app

BUCKET = "s32s-demo"
TEXTS = {
    "index.html": "<h1>Hello from the master</h1>\n",
    "about.txt": "s32s keeps this folder in step on every slave.\n",
    "docs/guide.md": "# Guide\n\nPush on the master, pull on the slaves.\n",
    "docs/notes.txt": "Changed files move; unchanged files cost nothing.\n",
    "cache/session.tmp": "ignored by the map's rules\n",
}


def write_sample(root: Path) -> dict[str, Path]:
    """The master folder, the map file and one ini per machine."""
    from s32s.images.producer import render_jpeg, utc_now
    from s32s.maps.ini import Config, save_config

    master, slave = root / "master", root / "slave"
    for name, text in TEXTS.items():
        path = master / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (master / "images").mkdir(exist_ok=True)
    for index in range(3):
        (master / "images" / f"img_{index:05d}.jpg").write_bytes(
            render_jpeg(index, utc_now(), (160, 120))
        )
    (master / "uploads" / "empty").mkdir(parents=True, exist_ok=True)
    slave.mkdir(parents=True, exist_ok=True)
    maps = [
        {
            "name": "site",
            "description": "The demo site: master folder mirrored on the slave.",
            "s3": f"s3://{BUCKET}/site",
            "master": master.as_posix(),
            "slave": slave.as_posix(),
            "ignore": ["*.tmp"],
        }
    ]
    map_file = root / "maps" / "site.json"
    map_file.parent.mkdir(parents=True, exist_ok=True)
    map_file.write_text(json.dumps(maps, indent=2), encoding="utf-8")
    master_ini, slave_ini = root / "master.ini", root / "slave.ini"
    save_config(
        Config(is_master=True, master_maps=f"{BUCKET}/maps", time_sleep_after_rm=0), master_ini
    )
    save_config(
        Config(is_master=False, slave_maps=f"{BUCKET}/maps", time_sleep_after_rm=0), slave_ini
    )
    return {
        "master": master,
        "slave": slave,
        "maps": map_file,
        "master_ini": master_ini,
        "slave_ini": slave_ini,
    }


def same_tree(a: Path, b: Path, ignore_suffix: str = ".tmp") -> bool:
    def listing(root: Path) -> dict[str, bytes | None]:
        return {
            p.relative_to(root).as_posix(): (None if p.is_dir() else p.read_bytes())
            for p in root.rglob("*")
            if not p.name.endswith(ignore_suffix)
        }

    return listing(a) == listing(b)


def _step(app: App, text: str) -> None:
    app.info(f"\n[bold cyan]▶ {text}[/]")


def _run(app: App, config: Path, mode: str, *, yes: bool = False, dry_run: bool = False) -> int:
    """One push or pull of the demo's machine `config`, drawn as the commands draw it."""
    from s32s import runs
    from s32s.cli.sync import run_hooks, show_summary
    from s32s.sync.session import worst_exit_code

    machine = replace(app, config_option=str(config))
    ini = machine.load_config()
    reports = runs.run_maps(
        mode,
        config=ini,
        yes=yes,
        dry_run=dry_run,
        workers=8,
        hooks=run_hooks(machine, yes=yes or ini.skip_delete_alert),
        **machine.aws_keywords(),
    )
    show_summary(machine, ini, reports)
    return int(worst_exit_code(reports))


def run_demo(app: App, root: Path, keep: bool) -> None:
    from s32s.motoendpoint import DEMO_CREDENTIALS, MotoEndpoint

    os.environ.update(DEMO_CREDENTIALS)
    os.environ.pop("AWS_PROFILE", None)
    _step(app, "Starting an S3 endpoint on 127.0.0.1")
    endpoint = MotoEndpoint().start()
    try:
        app = replace(app, endpoint_url=endpoint.url, profile=None)
        app.info(f"  endpoint {endpoint.url}")
        paths = write_sample(root)
        client = app.factory.s3()
        client.create_bucket(Bucket=BUCKET)
        client.put_object(Bucket=BUCKET, Key="maps/site.json", Body=paths["maps"].read_bytes())
        app.info(f"  bucket s3://{BUCKET}, map file s3://{BUCKET}/maps/site.json")

        _step(app, "Master: push the folder to S3")
        _run(app, paths["master_ini"], "master")
        _step(app, "Slave: pull it into the slave folder")
        _run(app, paths["slave_ini"], "slave")

        _step(app, "Changing about.txt and deleting docs/notes.txt on the master")
        (paths["master"] / "about.txt").write_text(
            "s32s keeps this folder in step on every slave. (edited)\n"
        )
        (paths["master"] / "docs" / "notes.txt").unlink()
        _step(app, "Master: what would change (dry run)")
        _run(app, paths["master_ini"], "master", dry_run=True)
        _step(app, "Master: push again (only the change moves; the delete is shown and confirmed)")
        _run(app, paths["master_ini"], "master", yes=True)
        _step(app, "Slave: pull again")
        code = _run(app, paths["slave_ini"], "slave", yes=True)

        matches = same_tree(paths["master"], paths["slave"])
        mark = (
            "[green]✔ the slave folder matches the master[/]"
            if matches
            else "[red]✘ the folders differ[/]"
        )
        app.info(f"\n{mark}")
        _where(app, root, paths, endpoint.url if keep else None)
        if app.json_output:
            app.emit_json(
                {
                    "root": str(root),
                    "endpoint": endpoint.url if keep else None,
                    "match": matches,
                    **{k: str(v) for k, v in paths.items()},
                }
            )
        if keep:
            app.info("\nThe endpoint keeps running. Press Ctrl-C to stop it.")
            _wait_forever()
        if not matches or code:
            end_with(1)
    finally:
        endpoint.stop()


def _where(app: App, root: Path, paths: dict[str, Path], endpoint: str | None) -> None:
    app.info("\n[bold]Where everything is[/]")
    app.info(f"  demo folder    {root}")
    app.info(f"  master folder  {paths['master']}")
    app.info(f"  slave folder   {paths['slave']}")
    app.info(f"  map file       {paths['maps']} (on S3: s3://{BUCKET}/maps/site.json)")
    app.info(f"  ini files      {paths['master_ini']}, {paths['slave_ini']}")
    if endpoint:
        app.info(
            "\n[bold]Try next[/] (the endpoint takes any credentials, e.g. AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo):"
        )
        base = f"s32s --endpoint-url {endpoint}"
        app.info(f"  {base} --config {paths['master_ini']} maps list")
        app.info(f"  {base} --config {paths['master_ini']} master push --dry-run")
        app.info(f"  {base} --config {paths['slave_ini']} slave pull")
        app.info(f"  {base} sync s3://{BUCKET}/site {root / 'copy'}")


def _wait_forever() -> None:
    import time

    while True:
        time.sleep(3600)


@click.command("demo")
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the demo's files [default: a new temporary folder].",
)
@click.option(
    "--keep", is_flag=True, help="Leave the endpoint running afterwards (Ctrl-C stops it)."
)
@pass_app
def demo_command(app: App, directory: Path | None, keep: bool) -> None:
    """Watch a full master → S3 → slave round trip on an embedded local S3 endpoint.

    Needs no AWS account: an S3-compatible server (moto) runs on 127.0.0.1
    for the length of the demo.
    """
    root = directory.resolve() if directory else Path(tempfile.mkdtemp(prefix="s32s-demo-"))
    if root.exists() and any(root.iterdir()):
        from s32s.errors import ConfigError

        raise ConfigError(
            f"The demo folder {root} is not empty.", "Pass an empty or new folder with --dir."
        )
    run_demo(app, root, keep)
