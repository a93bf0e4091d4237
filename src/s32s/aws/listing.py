"""Listing fast: ListObjectsV2 pages parsed with ElementTree, and requested in parallel.

Listing is the whole cost of a run where nothing changed, and botocore's
generic XML parser spends 15-30 ms on every page of 1,000 objects, on the
critical path between two requests. ElementTree reads the same page in about
5 ms. The result has the shape botocore's parser gives, so paginators and
botocore's own handlers (URL-decoding of keys) work unchanged; a page holding
anything this parser does not know is left entirely to botocore.

`list_objects` cuts a large prefix into key ranges listed side by side, so a
no-op over 100,000 objects waits for a few round trips instead of 100.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any
from xml.etree import ElementTree

_EMPTY_RESULT = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></ListBucketResult>'
)
_TEXT_FIELDS = frozenset(
    {
        "Name",
        "Prefix",
        "Delimiter",
        "EncodingType",
        "ContinuationToken",
        "NextContinuationToken",
        "StartAfter",
    }
)
_INTEGER_FIELDS = frozenset({"KeyCount", "MaxKeys"})
_OBJECT_TEXT_FIELDS = frozenset(
    {"Key", "LastModified", "ETag", "Size", "StorageClass", "ChecksumType"}
)
_OWNER_FIELDS = frozenset({"ID", "DisplayName"})


class _Unknown(Exception):
    """The page holds an element this parser does not handle."""


def list_objects_v2_parser(
    parse_timestamp: Callable[[str], datetime],
) -> Callable[..., None]:
    """A `before-parse.s3.ListObjectsV2` handler that parses the page itself."""

    def handler(
        response_dict: dict[str, Any], customized_response_dict: dict[str, Any], **_: Any
    ) -> None:
        if response_dict.get("status_code") != 200:
            return
        try:
            parsed = _parse(response_dict["body"], parse_timestamp)
        except (_Unknown, ElementTree.ParseError, ValueError, KeyError, TypeError):
            return  # botocore parses it (and reports what is wrong with it)
        customized_response_dict.update(parsed)
        response_dict["body"] = _EMPTY_RESULT  # what botocore still parses adds nothing

    return handler


def _parse(body: bytes, parse_timestamp: Callable[[str], datetime]) -> dict[str, Any]:
    root = ElementTree.fromstring(body)
    namespace = root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""
    if root.tag[len(namespace) :] != "ListBucketResult":
        raise _Unknown(root.tag)
    skip = len(namespace)
    parsed: dict[str, Any] = {}
    contents: list[dict[str, Any]] = []
    prefixes: list[dict[str, str]] = []
    for child in root:
        tag = child.tag[skip:]
        if tag == "Contents":
            contents.append(_object(child, skip, parse_timestamp))
        elif tag == "CommonPrefixes":
            prefixes.append({"Prefix": _only_child(child, skip, "Prefix")})
        elif tag == "IsTruncated":
            parsed[tag] = child.text == "true"
        elif tag in _INTEGER_FIELDS:
            parsed[tag] = int(child.text or "0")
        elif tag in _TEXT_FIELDS:
            parsed[tag] = child.text or ""
        else:
            raise _Unknown(tag)
    if contents:
        parsed["Contents"] = contents
    if prefixes:
        parsed["CommonPrefixes"] = prefixes
    return parsed


def _object(
    element: ElementTree.Element, skip: int, parse_timestamp: Callable[[str], datetime]
) -> dict[str, Any]:
    item: dict[str, Any] = {}
    for field in element:
        name = field.tag[skip:]
        if name in _OBJECT_TEXT_FIELDS:
            item[name] = field.text or ""
        elif name == "ChecksumAlgorithm":  # a flattened list: one element per algorithm
            item.setdefault(name, []).append(field.text or "")
        elif name == "Owner":
            item[name] = {_known(part, skip, _OWNER_FIELDS): part.text or "" for part in field}
        else:
            raise _Unknown(name)
    if "Size" in item:
        item["Size"] = int(item["Size"])
    if "LastModified" in item:
        item["LastModified"] = parse_timestamp(item["LastModified"])
    return item


def _known(element: ElementTree.Element, skip: int, names: frozenset[str]) -> str:
    name = element.tag[skip:]
    if name not in names:
        raise _Unknown(name)
    return name


def _only_child(element: ElementTree.Element, skip: int, name: str) -> str:
    children = list(element)
    if len(children) != 1 or children[0].tag[skip:] != name:
        raise _Unknown(element.tag)
    return children[0].text or ""


# Listing in parallel ---------------------------------------------------------------
PAGE_KEYS = 1000  # what S3 returns per page
LIST_STREAMS = 16  # pages requested at once for one prefix
PAGES_PER_RANGE = 2  # a range shorter than this costs more in overshoot than it saves
_Item = dict[str, Any]


def list_objects(
    client: Any,
    bucket: str,
    prefix: str,
    *,
    streams: int = LIST_STREAMS,
    page_size: int = PAGE_KEYS,
    on_page: Callable[[], None] | None = None,
) -> Iterator[_Item]:
    """Every object below `prefix`, in the order (and the shape) a plain paginated listing gives.

    A plain listing of 100,000 objects is 100 pages, each waiting for the one
    before: 100 round trips. This asks for the first page and, at the same
    time, for the prefix's sub-folders (a `Delimiter="/"` listing). A prefix
    that fits in one page is done after that one round trip. Otherwise the
    key space after the first page is cut at sub-folder names into ranges
    `(start, end]` of a few pages each; the ranges are listed side by side
    (`StartAfter=start`, stopping past `end`) and joined in order. The ranges
    touch and do not overlap, so every key is returned exactly once whatever
    it holds. A flat prefix (no sub-folders after the first page) is listed as
    one stream. Paging uses `StartAfter` rather than continuation tokens, which
    every S3 server understands.
    """
    count = on_page or (lambda: None)

    def page(**arguments: Any) -> dict[str, Any]:
        count()
        if page_size != PAGE_KEYS and "MaxKeys" not in arguments:
            arguments["MaxKeys"] = page_size
        return dict(client.list_objects_v2(Bucket=bucket, Prefix=prefix, **arguments))

    with ThreadPoolExecutor(max_workers=streams, thread_name_prefix="s32s-list") as pool:
        first_future = pool.submit(page)
        folders_future = pool.submit(page, Delimiter="/", MaxKeys=PAGE_KEYS)
        first = first_future.result()
        contents: list[_Item] = first.get("Contents") or []
        yield from contents
        if not first.get("IsTruncated") or not contents:
            return
        last = contents[-1]["Key"]
        folders = [item["Prefix"] for item in folders_future.result().get("CommonPrefixes", ())]
        bounds = _range_bounds(last, len(contents), sorted(folders), streams, page_size)
        ranges = [
            pool.submit(_list_range, page, start, end)
            for start, end in zip(bounds, [*bounds[1:], None], strict=True)
        ]
        try:
            for listed in ranges:
                yield from listed.result()
        finally:
            for pending in ranges:
                pending.cancel()


def _range_bounds(
    last: str, first_page: int, folders: list[str], streams: int, page_size: int
) -> list[str]:
    """Where the ranges after the first page start: `last`, then some sub-folder names.

    How many objects a folder holds is estimated from the folders the first
    page covered; ranges get about PAGES_PER_RANGE pages each, at most two per
    stream. No folder after `last`: one range (a flat prefix).
    """
    later = [folder for folder in folders if folder > last]
    covered = len(folders) - len(later)
    if not later:
        return [last]
    per_folder = first_page / covered if covered else page_size
    wanted = int(per_folder * len(later) / (page_size * PAGES_PER_RANGE))
    count = max(1, min(wanted, len(later), streams * 2))
    return [last] + [later[len(later) * index // count] for index in range(1, count)]


def _list_range(page: Callable[..., dict[str, Any]], start: str, end: str | None) -> list[_Item]:
    """The objects with keys in `(start, end]` (no end: to the last key)."""
    items: list[_Item] = []
    after = start
    while True:
        listed = page(StartAfter=after)
        contents: list[_Item] = listed.get("Contents") or []
        for item in contents:
            if end is not None and item["Key"] > end:
                return items
            items.append(item)
        if not listed.get("IsTruncated") or not contents:
            return items
        after = contents[-1]["Key"]
