"""The models on their own: attributes, equality, repr, the wire shape."""

from __future__ import annotations

import copy
import pickle
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from used_insight import (
    ResourceReference,
    ResourceVisualization,
    UsageDetails,
    UsedInsight,
    ValidationError,
)


def test_models_compare_by_value(insight: UsedInsight) -> None:
    twin = copy.deepcopy(insight)
    assert twin == insight and twin is not insight
    twin.resource_visualization.title = "Other"  # type: ignore[union-attr]
    assert twin != insight
    assert UsageDetails() != ResourceReference()
    assert UsageDetails() != {}


def test_models_are_mutable_so_unhashable() -> None:
    with pytest.raises(TypeError):
        hash(UsedInsight())


def test_unknown_attributes_are_refused() -> None:
    details = UsageDetails()
    with pytest.raises(AttributeError):
        details.last_acessed_date_time = datetime.now(timezone.utc)  # type: ignore[attr-defined]


def test_constructors_take_keywords_only() -> None:
    with pytest.raises(TypeError):
        ResourceReference("https://contoso.com/x")  # type: ignore[call-arg]


def test_repr_is_readable_and_shows_only_what_is_set() -> None:
    value = UsedInsight(
        last_used=UsageDetails(last_accessed_date_time=datetime(2026, 11, 28, 10, tzinfo=timezone.utc)),
        resource_reference=ResourceReference(web_url="https://contoso.com/x"),
    )
    assert repr(value) == (
        "UsedInsight(last_used=UsageDetails(last_accessed_date_time="
        "datetime.datetime(2026, 11, 28, 10, 0, tzinfo=datetime.timezone.utc)), "
        "resource_reference=ResourceReference(web_url='https://contoso.com/x'))"
    )
    assert repr(ResourceVisualization()) == "ResourceVisualization()"


def test_to_dict_writes_graphs_wire_shape(insight: UsedInsight) -> None:
    assert insight.to_dict() == {
        "@odata.type": "#microsoft.graph.usedInsight",
        "lastUsed": {
            "@odata.type": "microsoft.graph.usageDetails",
            "lastAccessedDateTime": "2026-11-28T10:00:00Z",
        },
        "resourceVisualization": {
            "@odata.type": "microsoft.graph.resourceVisualization",
            "title": "Quarterly report",
            "type": "Word",
            "mediaType": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "containerDisplayName": "Finance",
        },
        "resourceReference": {
            "@odata.type": "microsoft.graph.resourceReference",
            "webUrl": "https://contoso.sharepoint.com/sites/finance/report.docx",
            "id": "drives/b!abc/items/01XYZ",
            "type": "microsoft.graph.driveItem",
        },
    }


def test_from_dict_reads_what_to_dict_writes(insight: UsedInsight) -> None:
    assert UsedInsight.from_dict(insight.to_dict()) == insight
    reference = insight.resource_reference
    assert reference is not None
    assert ResourceReference.from_dict(reference.to_dict()) == reference


def test_from_dict_accepts_bare_and_hashed_odata_types() -> None:
    for odata_type in ["#microsoft.graph.usageDetails", "microsoft.graph.usageDetails"]:
        assert UsageDetails.from_dict({"@odata.type": odata_type}) == UsageDetails()


def test_unknown_properties_round_trip_at_every_level() -> None:
    wire: dict[str, Any] = {
        "@odata.type": "#microsoft.graph.usedInsight",
        "lastUsed": {
            "@odata.type": "microsoft.graph.usageDetails",
            "lastAccessedDateTime": "2026-11-28T10:00:00Z",
            "sessionCount": 3,
        },
        "resourceReference": {"@odata.type": "microsoft.graph.resourceReference", "siteId": None},
        "futureProperty": {"nested": [1, 2.5, "x", True, None, 10**30]},
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#x",
    }
    value = UsedInsight.from_dict(wire)
    assert value.additional_data == {
        "futureProperty": {"nested": [1, 2.5, "x", True, None, 10**30]},
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#x",
    }
    assert value.last_used is not None and value.last_used.additional_data == {"sessionCount": 3}
    assert value.to_dict() == wire


def test_date_times_keep_their_offset_and_drop_a_seventh_digit() -> None:
    details = UsageDetails.from_dict(
        {
            "lastAccessedDateTime": "2017-01-01T00:00:00.2315436+03:00",
            "lastModifiedDateTime": "0001-01-01T00:00:00Z",
        }
    )
    accessed = details.last_accessed_date_time
    assert accessed == datetime(2017, 1, 1, 0, 0, 0, 231543, tzinfo=timezone(timedelta(hours=3)))
    assert accessed is not None and accessed.utcoffset() == timedelta(hours=3)
    assert details.last_modified_date_time == datetime(1, 1, 1, tzinfo=timezone.utc)
    assert details.to_dict()["lastAccessedDateTime"] == "2017-01-01T00:00:00.231543+03:00"


def test_any_tzinfo_works_and_its_offset_at_that_instant_is_written() -> None:
    zoneinfo = pytest.importorskip("zoneinfo")
    try:
        paris = zoneinfo.ZoneInfo("Europe/Paris")
    except zoneinfo.ZoneInfoNotFoundError:
        pytest.skip("no time zone database")
    summer = UsageDetails(last_accessed_date_time=datetime(2026, 7, 1, 12, tzinfo=paris))
    winter = UsageDetails(last_accessed_date_time=datetime(2026, 12, 1, 12, tzinfo=paris))
    assert summer.to_dict()["lastAccessedDateTime"] == "2026-07-01T12:00:00+02:00"
    assert winter.to_dict()["lastAccessedDateTime"] == "2026-12-01T12:00:00+01:00"


def test_naive_datetimes_are_refused_with_their_path() -> None:
    details = UsageDetails(last_modified_date_time=datetime(2026, 11, 28, 10))
    with pytest.raises(ValidationError) as caught:
        details.to_dict()
    [(path, reason)] = caught.value.problems
    assert path == "lastModifiedDateTime"
    assert "naive datetime" in reason and "timezone.utc" in reason


def test_wrong_python_types_are_listed_with_their_paths() -> None:
    value = UsedInsight(
        id=7,  # type: ignore[arg-type]
        last_used="yesterday",  # type: ignore[arg-type]
        resource_visualization=ResourceVisualization(title=b"bytes"),  # type: ignore[arg-type]
        resource_reference=ResourceReference(additional_data={"when": {1, 2}}),
    )
    with pytest.raises(ValidationError) as caught:
        value.to_dict()
    assert caught.value.problems == [
        ("id", "expected a str or None, found int"),
        ("lastUsed", "expected a UsageDetails or None, found str"),
        ("resourceVisualization.title", "expected a str or None, found bytes"),
        (
            "resourceReference.when",
            "expected a JSON value (dict, list, str, int, float, bool or None), found set",
        ),
    ]


def test_from_dict_lists_every_problem_of_shape() -> None:
    with pytest.raises(ValidationError) as caught:
        UsedInsight.from_dict(
            {
                "@odata.type": "#microsoft.graph.user",
                "lastUsed": {"lastAccessedDateTime": "2026-11-28 10:00"},
                "resourceVisualization": "Word",
                "resourceReference": {"webUrl": 42},
                "extra": float("nan"),
            }
        )
    paths = [path for path, _ in caught.value.problems]
    assert paths == [
        "extra",
        "@odata.type",
        "lastUsed.lastAccessedDateTime",
        "resourceVisualization",
        "resourceReference.webUrl",
    ]
    assert isinstance(caught.value, ValueError)
    assert str(caught.value).startswith("5 problems with the input:\n  extra: is NaN")


def test_nested_from_dict_reports_paths_relative_to_the_object() -> None:
    with pytest.raises(ValidationError) as caught:
        ResourceReference.from_dict({"webUrl": 42})
    assert caught.value.problems == [("webUrl", "expected a string, found a number")]


def test_from_dict_reads_any_mapping_and_reports_a_repeated_key() -> None:
    class Pairs(Mapping[str, Any]):
        """A Mapping whose items() may repeat a key, as a JSON object can."""

        def __init__(self, *pairs: tuple[str, Any]) -> None:
            self.pairs = pairs

        def __getitem__(self, key: str) -> Any:
            return dict(self.pairs)[key]

        def __iter__(self) -> Iterator[str]:
            return iter(dict(self.pairs))

        def __len__(self) -> int:
            return len(dict(self.pairs))

        def items(self) -> Any:
            return list(self.pairs)

    url = "https://contoso.com/x"
    assert ResourceReference.from_dict(Pairs(("webUrl", url), ("siteId", 1))) == ResourceReference(
        web_url=url, additional_data={"siteId": 1}
    )
    with pytest.raises(ValidationError) as caught:
        ResourceReference.from_dict(Pairs(("webUrl", url), ("webUrl", 42)))
    assert caught.value.problems == [
        ("webUrl", "the property appears more than once"),
        ("webUrl", "expected a string, found a number"),
    ]


def test_from_dict_needs_a_mapping() -> None:
    with pytest.raises(TypeError):
        UsedInsight.from_dict([("lastUsed", {})])  # type: ignore[arg-type]


def test_subclasses_come_back_as_themselves() -> None:
    class MyReference(ResourceReference):
        __slots__ = ()

    value = MyReference.from_dict({"webUrl": "https://contoso.com/x"})
    assert type(value) is MyReference


def test_models_pickle() -> None:
    value = UsedInsight(
        last_used=UsageDetails(last_accessed_date_time=datetime(2026, 1, 1, tzinfo=timezone.utc)),
        additional_data={"x": 1},
    )
    assert pickle.loads(pickle.dumps(value)) == value


def test_the_model_classes_declare_core_s_fields_in_core_s_order() -> None:
    """Core's field table is the one list of properties: a property added
    there fails here until the Python class has its attribute."""
    from used_insight import _models, _native

    for name, fields in _native.model_fields():
        cls = getattr(_models, name)
        assert cls._fields == (*(attr for attr, _ in fields), "additional_data"), name
