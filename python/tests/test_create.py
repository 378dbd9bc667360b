"""Creating usedInsights against the emulator: results and the wire."""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime, timezone
from types import MappingProxyType
from typing import Any

import used_insight
from used_insight import Client, UsedInsight, used_insight_create

from conftest import TOKEN, Emulator

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def test_create_with_models_returns_the_stored_insight(
    client: Client, emu: Emulator, insight: UsedInsight
) -> None:
    created = client.create("alice@contoso.com", insight)
    assert isinstance(created, UsedInsight)
    assert created.id is not None and UUID.match(created.id)
    assert created.last_used == insight.last_used
    assert created.resource_visualization == insight.resource_visualization
    assert created.resource_reference == insight.resource_reference
    accessed = created.last_used.last_accessed_date_time  # type: ignore[union-attr]
    assert accessed == datetime(2026, 11, 28, 10, tzinfo=timezone.utc)
    assert accessed is not None and accessed.tzinfo is timezone.utc
    # Graph's answer carries @odata.context, which the model keeps.
    assert "@odata.context" in created.additional_data


def test_create_with_a_wire_shape_dict(
    client: Client, emu: Emulator, wire_insight: dict[str, Any], insight: UsedInsight
) -> None:
    created = client.create("alice@contoso.com", wire_insight)
    assert isinstance(created, UsedInsight)
    assert created.resource_reference == insight.resource_reference
    assert emu.bodies()[0] == insight.to_dict()


def test_to_dict_output_and_any_mapping_are_sent_as_the_model_is(
    client: Client, emu: Emulator, wire_insight: dict[str, Any], insight: UsedInsight
) -> None:
    # @odata.type on every object, as to_dict() writes it and Graph answers.
    client.create("alice@contoso.com", insight.to_dict())
    # A Mapping that is not a dict, at the top and nested.
    reference = MappingProxyType(wire_insight.pop("resourceReference"))
    client.create("alice@contoso.com", MappingProxyType({**wire_insight, "resourceReference": reference}))
    client.create("alice@contoso.com", insight)
    first, second, model = emu.bodies()
    assert first == second == model == insight.to_dict()


def test_a_dict_may_hold_aware_datetimes(client: Client, emu: Emulator, wire_insight: dict[str, Any]) -> None:
    wire_insight["lastUsed"]["lastAccessedDateTime"] = datetime(2026, 11, 28, 10, tzinfo=timezone.utc)
    client.create("alice@contoso.com", wire_insight)
    assert emu.bodies()[0]["lastUsed"]["lastAccessedDateTime"] == "2026-11-28T10:00:00Z"


def test_the_wire_request_is_graphs(client: Client, emu: Emulator, insight: UsedInsight) -> None:
    client.create("alice@contoso.com", insight)
    [request] = emu.requests()
    assert request["method"] == "POST"
    assert request["path"] == "/v1.0/users/alice@contoso.com/insights/used"
    headers = request["headers"]
    assert headers["authorization"] == f"Bearer {TOKEN}"
    assert headers["content-type"] == "application/json"
    assert headers["accept"] == "application/json"
    assert UUID.match(headers["client-request-id"])
    assert headers["user-agent"].startswith(f"used-insight/{used_insight.__version__}")
    assert headers["sdkversion"].startswith("used-insight/")
    body = json.loads(request["body"])
    assert body == {
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


def test_the_user_id_is_one_path_segment(client: Client, emu: Emulator, insight: UsedInsight) -> None:
    created = client.create("../../me?x#y", insight)
    assert created.id
    assert emu.requests()[0]["path"] == "/v1.0/users/..%2F..%2Fme%3Fx%23y/insights/used"


def test_beta_and_user_agent_settings_reach_the_wire(emu: Emulator, insight: UsedInsight) -> None:
    with Client(token=TOKEN, base_url=emu.base_url, api_version="beta", user_agent="contoso-sync/2.1") as client:
        client.create("alice@contoso.com", insight)
    [request] = emu.requests()
    assert request["path"].startswith("/beta/users/")
    assert request["headers"]["user-agent"].startswith("contoso-sync/2.1 used-insight/")


def test_unknown_properties_reach_graph_and_come_back(
    client: Client, emu: Emulator, wire_insight: dict[str, Any]
) -> None:
    wire_insight["futureProperty"] = {"weight": 1.5, "tags": ["a", "b"]}
    wire_insight["resourceReference"]["siteId"] = "contoso.sharepoint.com,1,2"
    created = client.create("alice@contoso.com", wire_insight)
    sent = emu.bodies()[0]
    assert sent["futureProperty"] == {"weight": 1.5, "tags": ["a", "b"]}
    assert sent["resourceReference"]["siteId"] == "contoso.sharepoint.com,1,2"
    assert created.additional_data["futureProperty"] == {"weight": 1.5, "tags": ["a", "b"]}
    assert created.resource_reference is not None
    assert created.resource_reference.additional_data == {"siteId": "contoso.sharepoint.com,1,2"}
    # And a model carrying them sends them again unchanged.
    emu.reset()
    client.create("alice@contoso.com", created)
    resent = emu.bodies()[0]
    assert resent["futureProperty"] == sent["futureProperty"]
    assert resent["resourceReference"]["siteId"] == "contoso.sharepoint.com,1,2"


def test_one_shot_function(emu: Emulator, insight: UsedInsight) -> None:
    created = used_insight_create("bob@contoso.com", insight, token=TOKEN, base_url=emu.base_url)
    assert created.id
    assert emu.requests()[0]["path"] == "/v1.0/users/bob@contoso.com/insights/used"


def test_one_client_request_id_per_create(client: Client, emu: Emulator, insight: UsedInsight) -> None:
    client.create("alice@contoso.com", insight)
    client.create("alice@contoso.com", insight)
    first, second = (r["headers"]["client-request-id"] for r in emu.requests())
    assert first != second
    assert uuid.UUID(first).version == 4
