from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from s32s.sync.compare import CompareOptions, copy_reason, etags_comparable
from s32s.sync.entries import Entry, format_mtime, parse_mtime
from s32s.sync.ignore import IgnoreRules
from s32s.sync.plan import PlanOptions, make_plan

S = 1_000_000_000


def f(key: str, size: int = 1, mtime: int | None = 10 * S, **kw: object) -> Entry:
    return Entry(key, size=size, mtime_ns=mtime, **kw)  # type: ignore[arg-type]


def d(key: str) -> Entry:
    return Entry(key, is_dir=True)


def test_copy_rules_in_order() -> None:
    options = CompareOptions()
    assert copy_reason(f("a"), None, options) == "new"
    assert copy_reason(f("a", size=2), f("a", size=1), options) == "size differs"
    assert copy_reason(f("a", mtime=11 * S), f("a"), options) == "modification time changed"
    assert (
        copy_reason(f("a", mtime=9 * S), f("a"), options) == "modification time changed"
    )  # older too
    assert (
        copy_reason(f("a", mtime=10 * S + 500), f("a"), options) is None
    )  # within the modify window
    assert copy_reason(f("a"), d("a"), options) == "a folder stands at the destination"


def test_unknown_destination_mtime_falls_back_to_upload_time() -> None:
    options = CompareOptions()
    uploaded_later = Entry("a", size=1, mtime_ns=None, modified_ns=20 * S)
    uploaded_earlier = Entry("a", size=1, mtime_ns=None, modified_ns=5 * S)
    assert copy_reason(f("a"), uploaded_later, options) is None
    assert copy_reason(f("a"), uploaded_earlier, options) == "newer at the source"


def test_checksum_and_etag_modes() -> None:
    checksum = CompareOptions(checksum=True)
    assert copy_reason(f("a", etag="x"), f("a", etag="x", mtime=1), checksum) is None
    assert copy_reason(f("a", etag="x"), f("a", etag="y"), checksum) == "content differs"
    etag = CompareOptions(mode="etag")
    assert copy_reason(f("a", etag="m-2", mtime=None), f("a", etag="m-2", mtime=None), etag) is None
    assert copy_reason(f("a", etag="x"), f("a", etag="y"), etag) == "content differs"
    assert etags_comparable("a", "b") and etags_comparable("a-2", "b-2")
    assert (
        not etags_comparable("a", "b-2")
        and not etags_comparable("a-2", "b-3")
        and not etags_comparable(None, "a")
    )


def test_mtime_format_is_rclones() -> None:
    assert format_mtime(1354040105_123456789) == "1354040105.123456789"
    assert parse_mtime("1354040105.123456789") == 1354040105_123456789
    assert parse_mtime("1354040105.5") == 1354040105_500000000
    assert parse_mtime("1354040105") == 1354040105 * S
    assert parse_mtime("garbage") is None and parse_mtime("") is None and parse_mtime(None) is None


def test_mirror_plan() -> None:
    source = [f("keep"), f("new"), f("changed", size=5), d("dir"), f("dir/x"), d("empty")]
    dest = [f("keep"), f("changed"), f("gone", size=3), d("olddir")]
    plan = make_plan(source, dest, PlanOptions(only_empty_folders=True))
    assert [(a.key, a.reason) for a in plan.copies] == [
        ("changed", "size differs"),
        ("dir/x", "new"),
        ("new", "new"),
    ]
    assert [a.key for a in plan.mkdirs] == ["empty"]  # markers only for empty folders on S3
    assert [a.key for a in plan.deletes] == ["gone"]
    assert [a.key for a in plan.rmdirs] == ["olddir"]
    assert plan.unchanged == 1 and plan.bytes_to_copy == 7 and plan.bytes_to_delete == 3


def test_local_destination_gets_all_folders_and_keeps_implied_ones() -> None:
    source = [f("a/b/c"), d("e")]
    dest = [d("a"), d("a/b"), d("stale")]
    plan = make_plan(source, dest, PlanOptions())
    assert [a.key for a in plan.mkdirs] == ["e"]
    assert [a.key for a in plan.rmdirs] == ["stale"]


def test_ignored_paths_are_neither_copied_nor_deleted() -> None:
    options = PlanOptions(ignore=IgnoreRules(["cache/*", "*.tmp"]))
    source = [f("a"), f("cache/x"), f("b.tmp")]
    dest = [f("cache/old"), f("c.tmp"), f("stale")]
    plan = make_plan(source, dest, options)
    assert [a.key for a in plan.copies] == ["a"]
    assert [a.key for a in plan.deletes] == ["stale"]
    assert plan.ignored == 2 and plan.dest_files == 1
    wipe = make_plan(source, dest, PlanOptions(ignore=options.ignore, delete_excluded=True))
    assert [a.key for a in wipe.deletes] == ["c.tmp", "cache/old", "stale"]


def test_file_list_plan() -> None:
    options = PlanOptions(files=("a", "sub/b"))
    plan = make_plan([f("a"), f("sub/b"), f("other")], [f("a"), f("extra")], options)
    assert [a.key for a in plan.copies] == ["sub/b"]
    assert plan.deletes == [] and plan.unchanged == 1
    missing = make_plan([f("a")], [], options)
    assert missing.missing_listed == ["sub/b"] and missing.copies == []


def test_no_delete_mode() -> None:
    plan = make_plan([f("a")], [f("b")], PlanOptions(delete=False))
    assert [a.key for a in plan.copies] == ["a"] and plan.deletes == [] and plan.rmdirs == []


keys = st.lists(
    st.text(alphabet=st.sampled_from(list("abé/É.")), min_size=1, max_size=6).filter(
        lambda k: not k.startswith("/") and not k.endswith("/") and "//" not in k
    ),
    max_size=12,
    unique=True,
)


@settings(max_examples=200)
@given(keys, keys, st.data())
def test_plan_matches_set_operations_and_is_idempotent(
    source_keys: list[str], dest_keys: list[str], data: st.DataObject
) -> None:
    sizes = {k: data.draw(st.integers(0, 3)) for k in set(source_keys) | set(dest_keys)}
    source = {k: f(k, size=sizes[k]) for k in source_keys}
    dest = {k: f(k, size=(sizes[k] + data.draw(st.integers(0, 1)))) for k in dest_keys}
    plan = make_plan(source.values(), dest.values(), PlanOptions())
    copied = {a.key for a in plan.copies}
    deleted = {a.key for a in plan.deletes}
    assert deleted == set(dest) - set(source)
    assert set(source) - set(dest) <= copied <= set(source)
    assert all(source[k].size != dest[k].size for k in copied & set(dest))
    # apply the plan to a model of the destination: the next plan is empty
    after = dict(dest)
    for key in deleted:
        del after[key]
    for key in copied:
        after[key] = source[key]
    again = make_plan(source.values(), after.values(), PlanOptions())
    assert again.copies == [] and again.deletes == []
