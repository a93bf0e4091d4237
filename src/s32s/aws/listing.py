"""A fast path for parsing ListObjectsV2 answers.

Listing is the whole cost of a run where nothing changed, and botocore's
generic XML parser spends 15-30 ms on every page of 1,000 objects, on the
critical path between two requests. ElementTree reads the same page in about
5 ms. The result has the shape botocore's parser gives, so paginators and
botocore's own handlers (URL-decoding of keys) work unchanged; a page holding
anything this parser does not know is left entirely to botocore.
"""

from __future__ import annotations

from collections.abc import Callable
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
