//! The models against real bytes: Microsoft's own SDK output, a Graph-shaped
//! answer, and the documentation's example request and response.

mod common;

use common::paths_of;
use used_insight::{DateTimeOffset, RawJson, UsedInsight};

const VECTORS: &[(&str, &str)] = &[
    (
        "fixed_201_body.json",
        include_str!("vectors/fixed_201_body.json"),
    ),
    (
        "msgraph_serialized_used_insight.json",
        include_str!("vectors/msgraph_serialized_used_insight.json"),
    ),
    (
        "msgraph_serialized_usage_details.json",
        include_str!("vectors/msgraph_serialized_usage_details.json"),
    ),
    (
        "msgraph_serialized_resource_visualization.json",
        include_str!("vectors/msgraph_serialized_resource_visualization.json"),
    ),
    (
        "msgraph_serialized_resource_reference.json",
        include_str!("vectors/msgraph_serialized_resource_reference.json"),
    ),
];

/// The copies here must stay byte-identical to the shared reference set when
/// it is present beside the repository.
#[test]
fn vector_copies_match_the_shared_originals() {
    let shared = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors");
    if !shared.is_dir() {
        return; // a clone without the reference set beside it
    }
    for (name, bytes) in VECTORS {
        let original = std::fs::read_to_string(shared.join(name)).unwrap();
        assert_eq!(&original, bytes, "{name} differs from shared/vectors");
    }
}

#[test]
fn graph_201_body_parses_every_property() {
    let insight = UsedInsight::from_json(VECTORS[0].1).unwrap();
    assert_eq!(
        insight.id.as_deref(),
        Some("2f8bf448-f448-2f8b-48f4-8b2f48f48b2f")
    );
    let last_used = insight.last_used.as_ref().unwrap();
    assert_eq!(
        last_used.last_accessed_date_time.unwrap().to_string(),
        "2024-01-02T03:04:05Z"
    );
    let vis = insight.resource_visualization.as_ref().unwrap();
    assert_eq!(vis.title.as_deref(), Some("Quarterly report"));
    assert_eq!(vis.r#type.as_deref(), Some("Word"));
    assert_eq!(vis.container_type.as_deref(), Some("Site"));
    assert_eq!(
        vis.preview_image_url.as_deref(),
        Some("https://contoso.sharepoint.com/preview.png")
    );
    let reference = insight.resource_reference.as_ref().unwrap();
    assert_eq!(reference.id.as_deref(), Some("drives/b!abc/items/01XYZ"));
    assert_eq!(
        reference.r#type.as_deref(),
        Some("microsoft.graph.driveItem")
    );
    assert!(insight.additional_data.is_empty());
    insight.validate().unwrap();
    // Written back byte for byte: same order, same forms.
    assert_eq!(insight.to_json(), VECTORS[0].1.trim_end());
}

#[test]
fn msgraph_sdk_used_insight_parses_and_is_reported_incomplete() {
    let insight = UsedInsight::from_json(VECTORS[1].1).unwrap();
    let last_used = insight.last_used.as_ref().unwrap();
    let accessed = last_used.last_accessed_date_time.unwrap();
    assert_eq!(accessed.to_string(), "2024-01-02T03:04:05.123456Z");
    assert_eq!(
        accessed,
        "2024-01-02T03:04:05.123456+00:00".parse().unwrap()
    );
    // That SDK drops the two objects Graph requires; validation says so.
    let problems = insight.validate().unwrap_err();
    let paths = paths_of(&problems);
    assert_eq!(paths, ["resourceVisualization", "resourceReference"]);
}

#[test]
fn msgraph_sdk_nested_objects_parse() {
    let details: used_insight::UsageDetails = serde_json::from_str(VECTORS[2].1).unwrap();
    assert_eq!(
        details.last_modified_date_time.unwrap().to_string(),
        "2024-01-01T00:00:00Z"
    );
    let vis: used_insight::ResourceVisualization = serde_json::from_str(VECTORS[3].1).unwrap();
    assert_eq!(
        vis.preview_text.as_deref(),
        Some("Q1 numbers \u{e9}\u{e8} \"quoted\" </tag>")
    );
    assert_eq!(vis.container_display_name.as_deref(), Some("Finance"));
    let reference: used_insight::ResourceReference = serde_json::from_str(VECTORS[4].1).unwrap();
    assert_eq!(reference.id.as_deref(), Some("drives/b!abc/items/01XYZ"));
    assert_eq!(
        reference.web_url.as_deref(),
        Some("https://contoso.sharepoint.com/sites/finance/report.docx")
    );
}

/// The request body from Graph's "Create used" documentation.
const DOC_REQUEST: &str = r#"{
  "lastUsed": {
    "lastAccessedDateTime": "String (timestamp)",
    "lastModifiedDateTime": "String (timestamp)"
  }
}"#;

/// The example request and response of the seed, with real values.
const SEED_REQUEST: &str = r##"{
  "@odata.type": "#microsoft.graph.usedInsight",
  "lastUsed": {
    "@odata.type": "microsoft.graph.usageDetails",
    "lastAccessedDateTime": "2017-01-01T00:00:00.2315436+03:00",
    "lastModifiedDateTime": "0001-01-01T00:00:00Z"
  },
  "resourceVisualization": {
    "@odata.type": "microsoft.graph.resourceVisualization",
    "title": "Weekly sync",
    "type": "PowerPoint",
    "mediaType": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "previewImageUrl": "https://contoso.sharepoint.com/preview/weekly.png",
    "previewText": "",
    "containerWebUrl": "https://contoso.sharepoint.com/sites/team",
    "containerDisplayName": "Team",
    "containerType": "Site"
  },
  "resourceReference": {
    "@odata.type": "microsoft.graph.resourceReference",
    "webUrl": "https://contoso.sharepoint.com/sites/team/weekly.pptx",
    "id": "drives/b!xyz/items/01ABC",
    "type": "microsoft.graph.driveItem"
  }
}"##;

/// The seed's example response: the request as Graph stored it, with its
/// context and new id in front.
fn seed_response() -> String {
    SEED_REQUEST.replacen(
        "{",
        r#"{
  "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users('alice%40contoso.com')/insights/used/$entity",
  "id": "AWL2zZdwNkGnF7dBOX6TxRMBAQ","#,
        1,
    )
}

fn same_json(a: &str, b: &str) {
    let a: serde_json::Value = serde_json::from_str(a).unwrap();
    let b: serde_json::Value = serde_json::from_str(b).unwrap();
    assert_eq!(a, b);
}

#[test]
fn seed_example_request_and_response_round_trip() {
    for text in [SEED_REQUEST.to_owned(), seed_response()] {
        let insight = UsedInsight::from_json(&text).unwrap();
        insight.validate().unwrap();
        same_json(&insight.to_json(), &text);
        assert_eq!(UsedInsight::from_json(&insight.to_json()).unwrap(), insight);
    }
    let response = UsedInsight::from_json(&seed_response()).unwrap();
    assert_eq!(response.id.as_deref(), Some("AWL2zZdwNkGnF7dBOX6TxRMBAQ"));
    assert!(response.additional_data.contains_key("@odata.context"));
    let vis = response.resource_visualization.unwrap();
    assert_eq!(
        vis.preview_text.as_deref(),
        Some(""),
        "empty previewText is kept"
    );
}

#[test]
fn documentation_placeholders_are_reported_with_paths() {
    let problems = UsedInsight::from_json(DOC_REQUEST).unwrap_err();
    let paths = paths_of(&problems);
    assert_eq!(
        paths,
        [
            "lastUsed.lastAccessedDateTime",
            "lastUsed.lastModifiedDateTime"
        ]
    );
}

#[test]
fn unknown_properties_round_trip_verbatim_at_every_level() {
    let text = r##"{"@odata.type":"#microsoft.graph.usedInsight","lastUsed":{"@odata.type":"microsoft.graph.usageDetails","futureFlag":true},"resourceVisualization":{"@odata.type":"microsoft.graph.resourceVisualization","score":1.50,"tags":["a", "b"]},"resourceReference":{"@odata.type":"microsoft.graph.resourceReference","webUrl":"https://x.example/a","extra":{"n":null}},"newTopLevel":{"deep":[1,2,3]}}"##;
    let insight = UsedInsight::from_json(text).unwrap();
    assert_eq!(
        insight.additional_data["newTopLevel"],
        RawJson::new(r#"{"deep":[1,2,3]}"#).unwrap()
    );
    assert_eq!(
        insight
            .resource_visualization
            .as_ref()
            .unwrap()
            .additional_data["score"]
            .as_str(),
        "1.50"
    );
    assert_eq!(insight.to_json(), text);
}

#[test]
fn odata_type_is_accepted_with_or_without_hash_and_anything_else_is_refused() {
    for ok in [
        "#microsoft.graph.usedInsight",
        "microsoft.graph.usedInsight",
    ] {
        let text = format!(
            r##"{{"@odata.type":"{ok}","lastUsed":{{"@odata.type":"#microsoft.graph.usageDetails"}}}}"##
        );
        UsedInsight::from_json(&text).unwrap();
    }
    let bad = r##"{"@odata.type":"#microsoft.graph.trending","lastUsed":{"@odata.type":"microsoft.graph.driveItem"},"resourceReference":{"@odata.type":7}}"##;
    let problems = UsedInsight::from_json(bad).unwrap_err();
    let paths = paths_of(&problems);
    assert_eq!(
        paths,
        [
            "@odata.type",
            "lastUsed.@odata.type",
            "resourceReference.@odata.type"
        ]
    );
}

#[test]
fn every_problem_is_reported_at_once_with_its_path() {
    let text = r#"{
        "id": 5,
        "lastUsed": {"lastAccessedDateTime": "2024-01-01T00:00:00", "lastModifiedDateTime": 3},
        "resourceVisualization": {"title": ["x"], "previewImageUrl": "ftp://x/y", "containerWebUrl": "/relative"},
        "resourceReference": {"webUrl": "not a url", "id": "ok", "type": "x", "type": "y"}
    }"#;
    let problems = UsedInsight::from_json(text).unwrap_err();
    let paths = paths_of(&problems);
    assert_eq!(
        paths,
        [
            "id",
            "lastUsed.lastAccessedDateTime",
            "lastUsed.lastModifiedDateTime",
            "resourceVisualization.title",
            "resourceReference.type",
        ],
        "shape problems: {problems}"
    );
    // Rule problems of a well-shaped input, all at once.
    let text = r#"{
        "lastUsed": {},
        "resourceVisualization": {"previewImageUrl": "ftp://x/y", "containerWebUrl": "/relative", "title": "TITLE"},
        "resourceReference": {"webUrl": "not a url"}
    }"#
    .replace("TITLE", &"t".repeat(used_insight::MAX_TEXT_BYTES + 1));
    let insight = UsedInsight::from_json(&text).unwrap();
    let problems = insight.validate().unwrap_err();
    let paths = paths_of(&problems);
    assert_eq!(
        paths,
        [
            "resourceVisualization.title",
            "resourceVisualization.previewImageUrl",
            "resourceVisualization.containerWebUrl",
            "resourceReference.webUrl",
        ]
    );
    assert!(problems
        .to_string()
        .starts_with("4 problems with the input: "));
}

#[test]
fn non_objects_and_broken_json_are_named() {
    for (text, needle) in [
        ("[]", "expected an object, found an array"),
        ("\"x\"", "expected an object, found a string"),
        ("{", "not valid JSON"),
        ("", "not valid JSON"),
        (
            r#"{"lastUsed": 1}"#,
            "lastUsed: expected an object, found a number",
        ),
    ] {
        let err = UsedInsight::from_json(text).unwrap_err().to_string();
        assert!(err.contains(needle), "{text:?} gave {err}");
    }
}

#[test]
fn null_means_absent() {
    let insight = UsedInsight::from_json(
        r#"{"id":null,"lastUsed":null,"resourceVisualization":{"title":null}}"#,
    )
    .unwrap();
    assert_eq!(insight.id, None);
    assert_eq!(insight.last_used, None);
    assert_eq!(insight.resource_visualization.unwrap().title, None);
}

#[test]
fn additional_data_cannot_shadow_a_known_property() {
    let mut insight = UsedInsight::from_json(SEED_REQUEST).unwrap();
    insight
        .additional_data
        .insert("lastUsed".into(), RawJson::new("{}").unwrap());
    let err = insight.validate().unwrap_err();
    assert_eq!(err.problems()[0].path, "lastUsed");
}

#[test]
fn date_times_keep_precision_through_serde() {
    let t: DateTimeOffset = serde_json::from_str("\"2017-01-01T00:00:00.2315436+03:00\"").unwrap();
    assert_eq!(
        serde_json::to_string(&t).unwrap(),
        "\"2017-01-01T00:00:00.2315436+03:00\""
    );
}

#[test]
fn a_malformed_required_object_is_reported_once() {
    let err = used_insight::Client::builder()
        .token("t")
        .base_url("http://127.0.0.1:9")
        .build()
        .unwrap()
        .create_json("alice", r#"{"lastUsed":[]}"#)
        .unwrap_err();
    let used_insight::Error::InvalidInput(v) = err else {
        panic!()
    };
    let paths = paths_of(&v);
    assert_eq!(
        paths,
        ["lastUsed", "resourceVisualization", "resourceReference"]
    );
}
