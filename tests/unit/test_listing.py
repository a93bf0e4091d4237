"""The ListObjectsV2 fast path must give exactly what botocore's parser gives."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from s32s.aws.clients import AwsOptions, ClientFactory
from s32s.aws.listing import _EMPTY_RESULT

BUCKET = "listing-bkt"
KEYS = [
    "plain.txt",
    "folder/",
    "folder/a b+c&d<e>'f\"g.txt",
    "folder/ünïcødé/日本語.bin",
    "folder/%41%2F literally",
    "deep/x/y/z",
    " leading space",
    "trailing space ",
]


def pages(client: Any, **arguments: Any) -> list[dict[str, Any]]:
    found = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, **arguments):
        page.pop("ResponseMetadata")
        found.append(page)
    return found


@pytest.fixture
def clients(moto_server: Any) -> tuple[Any, Any]:
    """(s32s's client with the fast path, plain boto3's) on one moto server over HTTP."""
    plain = boto3.client("s3", endpoint_url=moto_server.url, region_name="us-east-1")
    plain.create_bucket(Bucket=BUCKET)
    for key in KEYS:
        plain.put_object(Bucket=BUCKET, Key=key, Body=key.encode())
    fast = ClientFactory(AwsOptions(endpoint_url=moto_server.url, region="us-east-1")).s3()
    return fast, plain


@pytest.mark.parametrize(
    "arguments",
    [
        {},
        {"MaxKeys": 2},  # several pages: continuation tokens and truncation
        {"Prefix": "folder/"},
        {"Delimiter": "/"},
        {"Prefix": "folder/", "Delimiter": "/", "StartAfter": "folder/a"},
        {"FetchOwner": True},
        {"EncodingType": "url"},
    ],
)
def test_fast_path_matches_botocore(clients: tuple[Any, Any], arguments: dict[str, Any]) -> None:
    fast, plain = clients
    handled = []
    fast.meta.events.register(
        "before-parse.s3.ListObjectsV2",
        lambda response_dict, **_: handled.append(response_dict["body"]),
        unique_id="spy",
    )
    expected = pages(plain, **arguments)
    assert pages(fast, **arguments) == expected
    # Runs after the fast path: the page it left to botocore is the empty one.
    assert handled == [_EMPTY_RESULT] * len(expected)
    if "EncodingType" not in arguments:  # botocore decodes only the encoding it asked for
        assert {item["Key"] for page in expected for item in page.get("Contents", [])} <= set(KEYS)


def test_pages_with_unknown_elements_are_left_to_botocore() -> None:
    from s32s.aws.clients import parse_timestamp
    from s32s.aws.listing import list_objects_v2_parser

    body = (
        b'<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
        b"<Contents><Key>k</Key><RestoreStatus><IsRestoreInProgress>true</IsRestoreInProgress>"
        b"</RestoreStatus></Contents></ListBucketResult>"
    )
    handler = list_objects_v2_parser(parse_timestamp)
    for status, payload in ((200, body), (200, b"<not xml"), (403, body)):
        response = {"status_code": status, "body": payload}
        customized: dict[str, Any] = {}
        handler(response_dict=response, customized_response_dict=customized)
        assert customized == {} and response["body"] == payload


def test_checksums_and_owner_are_parsed() -> None:
    from s32s.aws.clients import parse_timestamp
    from s32s.aws.listing import list_objects_v2_parser

    body = (
        b'<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
        b"<IsTruncated>false</IsTruncated><Contents><Key>k</Key>"
        b"<LastModified>2026-01-02T03:04:05.000Z</LastModified><ETag>&quot;e&quot;</ETag>"
        b"<ChecksumAlgorithm>CRC64NVME</ChecksumAlgorithm><ChecksumType>FULL_OBJECT</ChecksumType>"
        b"<Size>3</Size><Owner><ID>id</ID></Owner><StorageClass>STANDARD</StorageClass>"
        b"</Contents><KeyCount>1</KeyCount></ListBucketResult>"
    )
    customized: dict[str, Any] = {}
    list_objects_v2_parser(parse_timestamp)(
        response_dict={"status_code": 200, "body": body}, customized_response_dict=customized
    )
    item = customized["Contents"][0]
    assert customized["IsTruncated"] is False and customized["KeyCount"] == 1
    assert item["ETag"] == '"e"' and item["Size"] == 3 and item["Owner"] == {"ID": "id"}
    assert item["ChecksumAlgorithm"] == ["CRC64NVME"] and item["ChecksumType"] == "FULL_OBJECT"
    assert item["LastModified"].isoformat() == "2026-01-02T03:04:05+00:00"
