//! The usedInsight resource and the three complex types inside it, read and
//! written in Graph's wire shape (camelCase, `@odata.type` on every object).

use std::collections::BTreeMap;

use serde::de::{DeserializeSeed, MapAccess};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::decode::{
    decode_document, read_datetime, read_nested, read_string, At, ObjectSeed, WireObject,
};
use crate::validation::{Problems, ValidationErrors};
use crate::{DateTimeOffset, RawJson};

/// A document a user used: when (`last_used`), what it looks like
/// (`resource_visualization`) and where it is (`resource_reference`).
///
/// Properties this version does not know are kept in `additional_data` and
/// written back unchanged, because Graph adds properties over time.
///
/// ```
/// use used_insight::{UsedInsight, UsageDetails, ResourceVisualization, ResourceReference};
/// let insight = UsedInsight {
///     last_used: Some(UsageDetails {
///         last_accessed_date_time: Some("2026-11-28T10:00:00Z".parse()?),
///         ..Default::default()
///     }),
///     resource_visualization: Some(ResourceVisualization {
///         title: Some("Quarterly report".into()),
///         ..Default::default()
///     }),
///     resource_reference: Some(ResourceReference {
///         web_url: Some("https://contoso.sharepoint.com/report.docx".into()),
///         ..Default::default()
///     }),
///     ..Default::default()
/// };
/// insight.validate()?;
/// let json = insight.to_json();
/// assert!(json.starts_with(r##"{"@odata.type":"#microsoft.graph.usedInsight","lastUsed":"##));
/// assert_eq!(UsedInsight::from_json(&json)?, insight);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UsedInsight {
    /// Assigned by Graph; a value given on create is passed on as is.
    pub id: Option<String>,
    /// When the user last accessed and last modified the item (`lastUsed`).
    pub last_used: Option<UsageDetails>,
    /// How the item is shown (`resourceVisualization`).
    pub resource_visualization: Option<ResourceVisualization>,
    /// Where the item is (`resourceReference`).
    pub resource_reference: Option<ResourceReference>,
    /// Properties not listed above, kept verbatim (e.g. `@odata.context`).
    pub additional_data: BTreeMap<String, RawJson>,
}

/// Graph's `usageDetails`: when an item was last accessed and modified.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UsageDetails {
    /// When the user last accessed the item (`lastAccessedDateTime`).
    pub last_accessed_date_time: Option<DateTimeOffset>,
    /// When the user last modified the item (`lastModifiedDateTime`);
    /// Graph sends `0001-01-01T00:00:00Z` when unknown.
    pub last_modified_date_time: Option<DateTimeOffset>,
    /// Properties not listed above, kept verbatim.
    pub additional_data: BTreeMap<String, RawJson>,
}

/// Graph's `resourceVisualization`: what a client needs to show the item.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourceVisualization {
    /// The item's title (`title`).
    pub title: Option<String>,
    /// The item's kind as Graph names it, e.g. `Word`, `Excel`, `Web` (`type`).
    pub r#type: Option<String>,
    /// The item's media type (`mediaType`).
    pub media_type: Option<String>,
    /// An absolute http(s) URL of a preview image (`previewImageUrl`).
    pub preview_image_url: Option<String>,
    /// A text preview; may be empty (`previewText`).
    pub preview_text: Option<String>,
    /// An absolute http(s) URL of the containing folder or site (`containerWebUrl`).
    pub container_web_url: Option<String>,
    /// The container's display name (`containerDisplayName`).
    pub container_display_name: Option<String>,
    /// The container's kind, e.g. `OneDriveBusiness`, `Site` (`containerType`).
    pub container_type: Option<String>,
    /// Properties not listed above, kept verbatim.
    pub additional_data: BTreeMap<String, RawJson>,
}

/// Graph's `resourceReference`: where the item lives.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourceReference {
    /// An absolute http(s) URL that opens the item (`webUrl`).
    pub web_url: Option<String>,
    /// The item's id in Graph, e.g. `drives/b!abc/items/01XYZ` (`id`).
    pub id: Option<String>,
    /// The item's Graph type, e.g. `microsoft.graph.driveItem` (`type`).
    pub r#type: Option<String>,
    /// Properties not listed above, kept verbatim.
    pub additional_data: BTreeMap<String, RawJson>,
}

/// Each object's `@odata.type` as written on the wire.
const USED_INSIGHT_TYPE: &str = "#microsoft.graph.usedInsight";
const USAGE_DETAILS_TYPE: &str = "microsoft.graph.usageDetails";
const RESOURCE_VISUALIZATION_TYPE: &str = "microsoft.graph.resourceVisualization";
const RESOURCE_REFERENCE_TYPE: &str = "microsoft.graph.resourceReference";

impl UsedInsight {
    /// Reads a usedInsight from JSON, reporting every problem of shape (wrong
    /// JSON types, bad date-times, a foreign `@odata.type`, duplicate
    /// properties) with its path. Does not check what only a create needs —
    /// see [`UsedInsight::validate`].
    pub fn from_json(json: &str) -> Result<Self, ValidationErrors> {
        let mut problems = Problems::default();
        let insight = decode_document::<Self>(json, &mut problems);
        problems.into_result().map(|()| insight.unwrap_or_default())
    }

    /// Writes the usedInsight as compact JSON in Graph's wire shape.
    pub fn to_json(&self) -> String {
        // Serializing these types cannot fail: every key is a string and
        // every value is a string, a nested model or already-valid JSON.
        serde_json::to_string(self).unwrap_or_default()
    }
}

impl WireObject for UsedInsight {
    const ODATA_TYPE: &'static str = USED_INSIGHT_TYPE;
    const PROPERTIES: &'static [&'static str] = &[
        "id",
        "lastUsed",
        "resourceVisualization",
        "resourceReference",
    ];

    fn additional_data(&mut self) -> &mut BTreeMap<String, RawJson> {
        &mut self.additional_data
    }

    fn read_known<'de, A: MapAccess<'de>>(
        &mut self,
        index: usize,
        map: &mut A,
        at: At<'_>,
        problems: &mut Problems,
    ) -> Result<(), A::Error> {
        match index {
            0 => self.id = read_string(map, at, problems)?,
            1 => self.last_used = read_nested(map, at, problems)?,
            2 => self.resource_visualization = read_nested(map, at, problems)?,
            _ => self.resource_reference = read_nested(map, at, problems)?,
        }
        Ok(())
    }
}

impl WireObject for UsageDetails {
    const ODATA_TYPE: &'static str = USAGE_DETAILS_TYPE;
    const PROPERTIES: &'static [&'static str] = &["lastAccessedDateTime", "lastModifiedDateTime"];

    fn additional_data(&mut self) -> &mut BTreeMap<String, RawJson> {
        &mut self.additional_data
    }

    fn read_known<'de, A: MapAccess<'de>>(
        &mut self,
        index: usize,
        map: &mut A,
        at: At<'_>,
        problems: &mut Problems,
    ) -> Result<(), A::Error> {
        let field = match index {
            0 => &mut self.last_accessed_date_time,
            _ => &mut self.last_modified_date_time,
        };
        *field = read_datetime(map, at, problems)?;
        Ok(())
    }
}

impl WireObject for ResourceVisualization {
    const ODATA_TYPE: &'static str = RESOURCE_VISUALIZATION_TYPE;
    const PROPERTIES: &'static [&'static str] = &[
        "title",
        "type",
        "mediaType",
        "previewImageUrl",
        "previewText",
        "containerWebUrl",
        "containerDisplayName",
        "containerType",
    ];

    fn additional_data(&mut self) -> &mut BTreeMap<String, RawJson> {
        &mut self.additional_data
    }

    fn read_known<'de, A: MapAccess<'de>>(
        &mut self,
        index: usize,
        map: &mut A,
        at: At<'_>,
        problems: &mut Problems,
    ) -> Result<(), A::Error> {
        let field = match index {
            0 => &mut self.title,
            1 => &mut self.r#type,
            2 => &mut self.media_type,
            3 => &mut self.preview_image_url,
            4 => &mut self.preview_text,
            5 => &mut self.container_web_url,
            6 => &mut self.container_display_name,
            _ => &mut self.container_type,
        };
        *field = read_string(map, at, problems)?;
        Ok(())
    }
}

impl WireObject for ResourceReference {
    const ODATA_TYPE: &'static str = RESOURCE_REFERENCE_TYPE;
    const PROPERTIES: &'static [&'static str] = &["webUrl", "id", "type"];

    fn additional_data(&mut self) -> &mut BTreeMap<String, RawJson> {
        &mut self.additional_data
    }

    fn read_known<'de, A: MapAccess<'de>>(
        &mut self,
        index: usize,
        map: &mut A,
        at: At<'_>,
        problems: &mut Problems,
    ) -> Result<(), A::Error> {
        let field = match index {
            0 => &mut self.web_url,
            1 => &mut self.id,
            _ => &mut self.r#type,
        };
        *field = read_string(map, at, problems)?;
        Ok(())
    }
}

/// Writes `@odata.type`, then the set properties in the model's order, then
/// the kept unknown ones.
struct WireMap<M: SerializeMap>(M);

impl<M: SerializeMap> WireMap<M> {
    fn opt<T: Serialize>(&mut self, key: &str, value: &Option<T>) -> Result<(), M::Error> {
        match value {
            Some(v) => self.0.serialize_entry(key, v),
            None => Ok(()),
        }
    }

    fn finish(mut self, additional: &BTreeMap<String, RawJson>) -> Result<M::Ok, M::Error> {
        for (k, v) in additional {
            self.0.serialize_entry(k, v)?;
        }
        self.0.end()
    }
}

fn begin<S: Serializer>(
    serializer: S,
    odata_type: &str,
) -> Result<WireMap<S::SerializeMap>, S::Error> {
    let mut map = serializer.serialize_map(None)?;
    map.serialize_entry("@odata.type", odata_type)?;
    Ok(WireMap(map))
}

impl Serialize for UsedInsight {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut m = begin(serializer, USED_INSIGHT_TYPE)?;
        m.opt("id", &self.id)?;
        m.opt("lastUsed", &self.last_used)?;
        m.opt("resourceVisualization", &self.resource_visualization)?;
        m.opt("resourceReference", &self.resource_reference)?;
        m.finish(&self.additional_data)
    }
}

impl Serialize for UsageDetails {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut m = begin(serializer, USAGE_DETAILS_TYPE)?;
        m.opt("lastAccessedDateTime", &self.last_accessed_date_time)?;
        m.opt("lastModifiedDateTime", &self.last_modified_date_time)?;
        m.finish(&self.additional_data)
    }
}

impl Serialize for ResourceVisualization {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut m = begin(serializer, RESOURCE_VISUALIZATION_TYPE)?;
        m.opt("title", &self.title)?;
        m.opt("type", &self.r#type)?;
        m.opt("mediaType", &self.media_type)?;
        m.opt("previewImageUrl", &self.preview_image_url)?;
        m.opt("previewText", &self.preview_text)?;
        m.opt("containerWebUrl", &self.container_web_url)?;
        m.opt("containerDisplayName", &self.container_display_name)?;
        m.opt("containerType", &self.container_type)?;
        m.finish(&self.additional_data)
    }
}

impl Serialize for ResourceReference {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut m = begin(serializer, RESOURCE_REFERENCE_TYPE)?;
        m.opt("webUrl", &self.web_url)?;
        m.opt("id", &self.id)?;
        m.opt("type", &self.r#type)?;
        m.finish(&self.additional_data)
    }
}

/// Deserializing goes through the same reader as [`UsedInsight::from_json`]
/// and fails with every problem listed. It needs `serde_json` (kept
/// properties are raw JSON).
macro_rules! deserialize_via_decode {
    ($ty:ty) => {
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let mut problems = Problems::default();
                let at = At {
                    parent: "",
                    key: "",
                };
                let value = ObjectSeed::<$ty>::new(at, &mut problems).deserialize(deserializer)?;
                problems
                    .into_result()
                    .map(|()| value.unwrap_or_default())
                    .map_err(serde::de::Error::custom)
            }
        }
    };
}

deserialize_via_decode!(UsedInsight);
deserialize_via_decode!(UsageDetails);
deserialize_via_decode!(ResourceVisualization);
deserialize_via_decode!(ResourceReference);
