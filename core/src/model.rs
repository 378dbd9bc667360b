//! The usedInsight resource and the three complex types inside it, each
//! declared once with [`graph_model!`](crate::schema): fields, wire names,
//! kinds and required ones. Reading and writing Graph's wire shape
//! (camelCase, `@odata.type` on every object) is generated from that list.

use std::collections::BTreeMap;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use crate::decode::decode_document;
use crate::schema::graph_model;
use crate::validation::{Problems, ValidationErrors};
use crate::write::WriteJson;
use crate::{DateTimeOffset, RawJson};

graph_model! {
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
    pub struct UsedInsight = "#microsoft.graph.usedInsight" {
        /// Assigned by Graph; a value given on create is passed on as is.
        id: String => "id" as id,
        /// When the user last accessed and last modified the item (`lastUsed`).
        last_used: UsageDetails => "lastUsed" as object required,
        /// How the item is shown (`resourceVisualization`).
        resource_visualization: ResourceVisualization => "resourceVisualization" as object required,
        /// Where the item is (`resourceReference`).
        resource_reference: ResourceReference => "resourceReference" as object required,
    }
}

graph_model! {
    /// Graph's `usageDetails`: when an item was last accessed and modified.
    pub struct UsageDetails = "microsoft.graph.usageDetails" {
        /// When the user last accessed the item (`lastAccessedDateTime`).
        last_accessed_date_time: DateTimeOffset => "lastAccessedDateTime" as datetime,
        /// When the user last modified the item (`lastModifiedDateTime`);
        /// Graph sends `0001-01-01T00:00:00Z` when unknown.
        last_modified_date_time: DateTimeOffset => "lastModifiedDateTime" as datetime,
    }
}

graph_model! {
    /// Graph's `resourceVisualization`: what a client needs to show the item.
    pub struct ResourceVisualization = "microsoft.graph.resourceVisualization" {
        /// The item's title (`title`).
        title: String => "title" as text,
        /// The item's kind as Graph names it, e.g. `Word`, `Excel`, `Web` (`type`).
        r#type: String => "type" as text,
        /// The item's media type (`mediaType`).
        media_type: String => "mediaType" as text,
        /// An absolute http(s) URL of a preview image (`previewImageUrl`).
        preview_image_url: String => "previewImageUrl" as url,
        /// A text preview; may be empty (`previewText`).
        preview_text: String => "previewText" as text,
        /// An absolute http(s) URL of the containing folder or site (`containerWebUrl`).
        container_web_url: String => "containerWebUrl" as url,
        /// The container's display name (`containerDisplayName`).
        container_display_name: String => "containerDisplayName" as text,
        /// The container's kind, e.g. `OneDriveBusiness`, `Site` (`containerType`).
        container_type: String => "containerType" as text,
    }
}

graph_model! {
    /// Graph's `resourceReference`: where the item lives.
    pub struct ResourceReference = "microsoft.graph.resourceReference" {
        /// An absolute http(s) URL that opens the item (`webUrl`).
        web_url: String => "webUrl" as url,
        /// The item's id in Graph, e.g. `drives/b!abc/items/01XYZ` (`id`).
        id: String => "id" as text,
        /// The item's Graph type, e.g. `microsoft.graph.driveItem` (`type`).
        r#type: String => "type" as text,
    }
}

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
        let mut json = String::with_capacity(self.json_len_hint());
        self.write_json(&mut json);
        json
    }
}

/// Writes `@odata.type`, then the set properties in the model's order, then
/// the kept unknown ones.
pub(crate) struct WireMap<M: SerializeMap>(M);

impl<M: SerializeMap> WireMap<M> {
    pub(crate) fn opt<T: Serialize>(
        &mut self,
        key: &str,
        value: &Option<T>,
    ) -> Result<(), M::Error> {
        match value {
            Some(v) => self.0.serialize_entry(key, v),
            None => Ok(()),
        }
    }

    pub(crate) fn finish(
        mut self,
        additional: &BTreeMap<String, RawJson>,
    ) -> Result<M::Ok, M::Error> {
        for (k, v) in additional {
            self.0.serialize_entry(k, v)?;
        }
        self.0.end()
    }
}

pub(crate) fn begin<S: Serializer>(
    serializer: S,
    odata_type: &str,
) -> Result<WireMap<S::SerializeMap>, S::Error> {
    let mut map = serializer.serialize_map(None)?;
    map.serialize_entry("@odata.type", odata_type)?;
    Ok(WireMap(map))
}
