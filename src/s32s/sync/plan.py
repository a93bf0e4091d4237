"""Plan a sync from two listings: what to copy, delete, create and skip.

Planning does no I/O: it takes the entries both stores listed (and any
metadata resolved for them) and returns a `Plan` value. `--dry-run` is
"plan and render".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum

from s32s.sync.compare import CompareOptions, copy_reason
from s32s.sync.entries import Entry
from s32s.sync.ignore import IgnoreRules


class Kind(str, Enum):
    COPY = "copy"
    DELETE = "delete"
    MKDIR = "mkdir"
    RMDIR = "rmdir"


@dataclass(frozen=True)
class Action:
    kind: Kind
    key: str
    size: int = 0
    reason: str = ""
    source: Entry | None = None


@dataclass(frozen=True)
class PlanOptions:
    """The rules of one sync: a map's ignore rules and file list, and the flags."""

    ignore: IgnoreRules = field(default_factory=IgnoreRules)
    files: tuple[str, ...] | None = None  # a file-list map: only these move, nothing is deleted
    delete: bool = True  # mirror: delete what the source no longer has
    delete_excluded: bool = False
    compare: CompareOptions = field(default_factory=CompareOptions)
    # Where folders exist through their files (S3), only empty ones need creating.
    only_empty_folders: bool = False


@dataclass
class Plan:
    copies: list[Action] = field(default_factory=list)
    deletes: list[Action] = field(default_factory=list)
    mkdirs: list[Action] = field(default_factory=list)
    rmdirs: list[Action] = field(default_factory=list)
    unchanged: int = 0
    ignored: int = 0
    source_files: int = 0
    dest_files: int = 0
    missing_listed: list[str] = field(default_factory=list)

    @property
    def bytes_to_copy(self) -> int:
        return sum(action.size for action in self.copies)

    @property
    def bytes_to_delete(self) -> int:
        return sum(action.size for action in self.deletes)

    @property
    def is_empty(self) -> bool:
        return not (self.copies or self.deletes or self.mkdirs or self.rmdirs)


def _split(entries: Iterable[Entry]) -> tuple[dict[str, Entry], set[str]]:
    files: dict[str, Entry] = {}
    dirs: set[str] = set()
    for entry in entries:
        if entry.is_dir:
            dirs.add(entry.key)
        else:
            files[entry.key] = entry
    return files, dirs


def _folders_with_content(files: Iterable[str], dirs: Iterable[str]) -> set[str]:
    """Folders that hold at least one file or folder."""
    result: set[str] = set()
    for key in [*files, *dirs]:
        parts = key.split("/")[:-1]
        for index in range(len(parts)):
            result.add("/".join(parts[: index + 1]))
    return result


def make_plan(
    source: Iterable[Entry],
    dest: Iterable[Entry],
    options: PlanOptions,
) -> Plan:
    """Compare the two listings under `options` and return the plan."""
    source_files, source_dirs = _split(source)
    dest_files, dest_dirs = _split(dest)
    plan = Plan()
    rules = options.ignore

    if options.files is not None:
        return _plan_file_list(source_files, dest_files, options, plan)

    for key in [k for k in source_files if rules.matches(k)]:
        del source_files[key]
        plan.ignored += 1
    source_dirs = {d for d in source_dirs if not rules.matches(d)}
    excluded_at_dest = {k for k in dest_files if rules.matches(k)}
    plan.source_files = len(source_files)
    plan.dest_files = len(dest_files) - len(excluded_at_dest)

    for key, entry in sorted(source_files.items()):
        reason = copy_reason(entry, dest_files.get(key), options.compare)
        if reason:
            plan.copies.append(Action(Kind.COPY, key, entry.size, reason, entry))
        else:
            plan.unchanged += 1

    if options.only_empty_folders:
        wanted_dirs = source_dirs - _folders_with_content(source_files, source_dirs)
    else:
        wanted_dirs = source_dirs
    folder_reason = "empty folder" if options.only_empty_folders else "new folder"
    for key in sorted(wanted_dirs - dest_dirs):
        plan.mkdirs.append(Action(Kind.MKDIR, key, reason=folder_reason))

    if options.delete:
        for key, entry in sorted(dest_files.items()):
            if key in source_files:
                continue
            if key in excluded_at_dest:
                if options.delete_excluded:
                    plan.deletes.append(
                        Action(Kind.DELETE, key, entry.size, "excluded by an ignore rule")
                    )
                continue
            plan.deletes.append(Action(Kind.DELETE, key, entry.size, "gone from the source"))
        kept_dirs = source_dirs | _folders_with_content(source_files, source_dirs)
        for key in sorted(dest_dirs - kept_dirs, key=lambda k: (-k.count("/"), k)):
            if rules.matches(key) and not options.delete_excluded:
                continue
            plan.rmdirs.append(Action(Kind.RMDIR, key, reason="gone from the source"))
    return plan


def _plan_file_list(
    source_files: dict[str, Entry], dest_files: dict[str, Entry], options: PlanOptions, plan: Plan
) -> Plan:
    listed = options.files or ()
    plan.source_files = len(listed)
    plan.dest_files = sum(1 for key in listed if key in dest_files)
    for key in listed:
        entry = source_files.get(key)
        if entry is None:
            plan.missing_listed.append(key)
            continue
        reason = copy_reason(entry, dest_files.get(key), options.compare)
        if reason:
            plan.copies.append(Action(Kind.COPY, key, entry.size, reason, entry))
        else:
            plan.unchanged += 1
    if plan.missing_listed:
        plan.copies.clear()  # every listed file must exist at the source, or nothing moves
    return plan
