"""Listing in parallel gives exactly what a plain paginated listing gives, on both S3 servers."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from s32s.aws import listing
from s32s.aws.clients import AwsOptions, ClientFactory
from s32s.aws.listing import list_objects

BUCKET = "parallel-listing"
PAGE = 3  # small pages, so a few dozen keys make many pages and many ranges
SEGMENTS = ["a", "b", "a.b", "a0", "a-", "é", "日本", "x y", "%2F", "a+b", "<&'\">", "~z", " lead"]
_examples = itertools.count()


def plain_listing(client: Any, prefix: str) -> list[tuple[str, int, str]]:
    found = []
    paginator = client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=BUCKET, Prefix=prefix, MaxKeys=PAGE):
        found += [(item["Key"], item["Size"], item["ETag"]) for item in page.get("Contents", ())]
    return found


def parallel_listing(client: Any, prefix: str) -> list[tuple[str, int, str]]:
    items = list_objects(client, BUCKET, prefix, streams=4, page_size=PAGE)
    return [(item["Key"], item["Size"], item["ETag"]) for item in items]


def storable(keys: set[str], server: str) -> list[str]:
    """rclone keeps objects as files: no empty or dot segments, no file where a folder must be."""
    if server != "rclone":
        return sorted(keys)
    kept = set()
    for key in keys:
        parts = key.split("/")
        if key.endswith("/") or any(
            part in ("", ".", "..") or part != part.strip() for part in parts
        ):
            continue
        kept.add(key)
    return sorted(key for key in kept if not any(other.startswith(key + "/") for other in kept))


def seed(client: Any, prefix: str, keys: list[str]) -> None:
    for key in keys:
        client.put_object(Bucket=BUCKET, Key=prefix + key, Body=key.encode()[:7])


@pytest.fixture
def fast_client(s3_server: Any, s3_client: Any) -> Any:
    s3_client.create_bucket(Bucket=BUCKET)
    return ClientFactory(AwsOptions(endpoint_url=s3_server.url, region="us-east-1")).s3()


keys_strategy = st.sets(
    st.builds(
        lambda parts, marker: "/".join(parts) + ("/" if marker else ""),
        st.lists(st.sampled_from([*SEGMENTS, ""]), min_size=1, max_size=3),
        st.booleans(),
    ).filter(lambda key: key.strip("/") != ""),
    min_size=1,
    max_size=24,
)


@settings(
    max_examples=5,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(keys=keys_strategy)
def test_parallel_listing_equals_plain_listing(
    s3_server: Any, s3_client: Any, fast_client: Any, keys: set[str]
) -> None:
    prefix = f"ex{next(_examples)}/"
    seed(s3_client, prefix, storable(keys, s3_server.name))
    assert parallel_listing(fast_client, prefix) == plain_listing(fast_client, prefix)


def test_a_tree_of_folders_is_cut_into_ranges_listed_side_by_side(
    s3_server: Any, s3_client: Any, fast_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = [f"d{folder}/k{index}" for folder in range(10) for index in range(6)]
    keys += ["d3.txt", "d30", "top"]  # between and after the folders in key order
    seed(s3_client, "tree/", keys)
    ranges: list[tuple[str, str | None]] = []
    list_range = listing._list_range

    def counted(page: Any, start: str, end: str | None) -> list[dict[str, Any]]:
        ranges.append((start, end))
        return list_range(page, start, end)

    monkeypatch.setattr(listing, "_list_range", counted)
    listed = parallel_listing(fast_client, "tree/")
    assert listed == plain_listing(fast_client, "tree/")
    assert [key for key, _, _ in listed] == sorted(f"tree/{key}" for key in keys)
    assert len(ranges) > 1  # really in parallel
    assert ranges[0][0] == listed[PAGE - 1][0]  # the first range starts after the first page


def test_a_flat_prefix_is_one_stream_and_a_small_one_one_request(
    s3_server: Any, s3_client: Any, fast_client: Any
) -> None:
    seed(s3_client, "flat/", [f"f{index:02d}" for index in range(10)])
    pages: list[int] = []
    items = list(
        list_objects(fast_client, BUCKET, "flat/", page_size=PAGE, on_page=lambda: pages.append(1))
    )
    assert [item["Key"] for item in items] == [f"flat/f{index:02d}" for index in range(10)]
    assert len(pages) == 2 + 3  # first page and folder query side by side, then 3 more pages
    pages.clear()
    assert [
        item["Key"]
        for item in list_objects(fast_client, BUCKET, "flat/f0", on_page=lambda: pages.append(1))
    ] == [f"flat/f0{index}" for index in range(10)]
    assert len(pages) == 2  # one round trip: both first requests, side by side


def test_a_missing_bucket_fails_as_a_plain_listing_does(fast_client: Any) -> None:
    with pytest.raises(fast_client.exceptions.NoSuchBucket):
        list(list_objects(fast_client, "no-such-bucket", ""))
