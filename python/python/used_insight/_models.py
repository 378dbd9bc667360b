"""The usedInsight resource and the three complex types inside it.

Plain Python objects with snake_case attributes. Reading and writing Graph's
wire shape (camelCase, ``@odata.type``, date-time text) and every validation
rule are done by the Rust core; these classes only hold the values.

Date-times are aware ``datetime.datetime`` objects. Graph writes seven
fractional digits and Python keeps six: a 7th digit in an answer is dropped.
"""

from __future__ import annotations

from . import _native

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime
    from typing import Any, ClassVar

    from typing_extensions import Self

__all__ = ["UsedInsight", "UsageDetails", "ResourceVisualization", "ResourceReference"]


class _Model:
    """What the four models share: equality, repr, and the wire shape."""

    __slots__ = ()
    _fields: ClassVar[tuple[str, ...]] = ()

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in self._fields)

    # Mutable, so not hashable.
    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        shown = []
        for name in self._fields:
            value = getattr(self, name)
            if value is not None and not (name == "additional_data" and not value):
                shown.append(f"{name}={value!r}")
        return f"{type(self).__name__}({', '.join(shown)})"

    def to_dict(self) -> dict[str, Any]:
        """This object in Graph's wire shape: camelCase property names,
        ``@odata.type``, date-times as RFC 3339 text, unknown properties
        (``additional_data``) written back as they were.

        Raises ValidationError if a value has the wrong type (a naive
        datetime, a number where text belongs…).
        """
        return _native.to_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Read an object from Graph's wire shape (as returned by
        ``to_dict()`` or ``json.loads`` of a Graph body). Properties this
        version does not know go to ``additional_data``.

        Raises ValidationError listing every problem of shape (wrong JSON
        types, bad date-times, a foreign ``@odata.type``) with its path.
        Whether the object is complete enough to create is checked by
        ``Client.create``.
        """
        return _native.from_dict(cls, data)


class UsageDetails(_Model):
    """Graph's ``usageDetails``: when the user last accessed and modified
    the item.

    Attributes:
        last_accessed_date_time: ``lastAccessedDateTime``, an aware datetime.
        last_modified_date_time: ``lastModifiedDateTime``, an aware datetime
            (Graph sends 0001-01-01T00:00:00Z when unknown).
        additional_data: properties this version does not know, by wire
            name, kept and written back unchanged.
    """

    __slots__ = ("last_accessed_date_time", "last_modified_date_time", "additional_data")
    _fields = __slots__

    last_accessed_date_time: datetime | None
    last_modified_date_time: datetime | None
    additional_data: dict[str, Any]

    def __init__(
        self,
        *,
        last_accessed_date_time: datetime | None = None,
        last_modified_date_time: datetime | None = None,
        additional_data: Mapping[str, Any] | None = None,
    ) -> None:
        self.last_accessed_date_time = last_accessed_date_time
        self.last_modified_date_time = last_modified_date_time
        self.additional_data = dict(additional_data or {})


class ResourceVisualization(_Model):
    """Graph's ``resourceVisualization``: what a client needs to show the
    item.

    Attributes:
        title: ``title``, the item's title.
        type: ``type``, the item's kind as Graph names it (``Word``,
            ``Excel``, ``Web``…).
        media_type: ``mediaType``.
        preview_image_url: ``previewImageUrl``, an absolute http(s) URL.
        preview_text: ``previewText``.
        container_web_url: ``containerWebUrl``, an absolute http(s) URL.
        container_display_name: ``containerDisplayName``.
        container_type: ``containerType`` (``OneDriveBusiness``, ``Site``…).
        additional_data: properties this version does not know.
    """

    __slots__ = (
        "title",
        "type",
        "media_type",
        "preview_image_url",
        "preview_text",
        "container_web_url",
        "container_display_name",
        "container_type",
        "additional_data",
    )
    _fields = __slots__

    title: str | None
    type: str | None
    media_type: str | None
    preview_image_url: str | None
    preview_text: str | None
    container_web_url: str | None
    container_display_name: str | None
    container_type: str | None
    additional_data: dict[str, Any]

    def __init__(
        self,
        *,
        title: str | None = None,
        type: str | None = None,
        media_type: str | None = None,
        preview_image_url: str | None = None,
        preview_text: str | None = None,
        container_web_url: str | None = None,
        container_display_name: str | None = None,
        container_type: str | None = None,
        additional_data: Mapping[str, Any] | None = None,
    ) -> None:
        self.title = title
        self.type = type
        self.media_type = media_type
        self.preview_image_url = preview_image_url
        self.preview_text = preview_text
        self.container_web_url = container_web_url
        self.container_display_name = container_display_name
        self.container_type = container_type
        self.additional_data = dict(additional_data or {})


class ResourceReference(_Model):
    """Graph's ``resourceReference``: where the item lives.

    Attributes:
        web_url: ``webUrl``, an absolute http(s) URL that opens the item.
        id: ``id``, the item's id in Graph (``drives/b!abc/items/01XYZ``).
        type: ``type``, the item's Graph type
            (``microsoft.graph.driveItem``).
        additional_data: properties this version does not know.
    """

    __slots__ = ("web_url", "id", "type", "additional_data")
    _fields = __slots__

    web_url: str | None
    id: str | None
    type: str | None
    additional_data: dict[str, Any]

    def __init__(
        self,
        *,
        web_url: str | None = None,
        id: str | None = None,
        type: str | None = None,
        additional_data: Mapping[str, Any] | None = None,
    ) -> None:
        self.web_url = web_url
        self.id = id
        self.type = type
        self.additional_data = dict(additional_data or {})


class UsedInsight(_Model):
    """A document a user used: when (``last_used``), what it looks like
    (``resource_visualization``) and where it is (``resource_reference``).
    All three are required to create one.

    Attributes:
        id: ``id``, assigned by Graph on create.
        last_used: ``lastUsed``, a UsageDetails.
        resource_visualization: ``resourceVisualization``.
        resource_reference: ``resourceReference``.
        additional_data: properties this version does not know (e.g.
            ``@odata.context`` in an answer), kept and written back unchanged.
    """

    __slots__ = (
        "id",
        "last_used",
        "resource_visualization",
        "resource_reference",
        "additional_data",
    )
    _fields = __slots__

    id: str | None
    last_used: UsageDetails | None
    resource_visualization: ResourceVisualization | None
    resource_reference: ResourceReference | None
    additional_data: dict[str, Any]

    def __init__(
        self,
        *,
        last_used: UsageDetails | None = None,
        resource_visualization: ResourceVisualization | None = None,
        resource_reference: ResourceReference | None = None,
        id: str | None = None,
        additional_data: Mapping[str, Any] | None = None,
    ) -> None:
        self.id = id
        self.last_used = last_used
        self.resource_visualization = resource_visualization
        self.resource_reference = resource_reference
        self.additional_data = dict(additional_data or {})
