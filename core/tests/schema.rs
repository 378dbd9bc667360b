//! The models as data, and the rules on settings that core alone owns: the
//! field table, the reader, the writer and the setter by path come from one
//! declaration and must agree; zero timeouts and concurrency 0 are refused
//! the same way for every caller.

mod common;

use std::time::Duration;

use used_insight::bindings;
use used_insight::{
    BatchOptions, Client, CredentialKind, Error, FieldKind, Model, ModelInfo, Problem, UsedInsight,
};

/// Every text leaf of a model, as (wire path, kind), walking the table.
fn leaves(model: &ModelInfo, parent: &str, out: &mut Vec<(String, FieldKind)>) {
    for field in model.fields {
        let path = if parent.is_empty() {
            field.wire_name.to_owned()
        } else {
            format!("{parent}.{}", field.wire_name)
        };
        match field.kind {
            FieldKind::Object(nested) => leaves(nested, &path, out),
            kind => out.push((path, kind)),
        }
    }
}

fn sample(kind: FieldKind, path: &str) -> String {
    match kind {
        FieldKind::DateTime => "2026-11-28T10:00:00.1234567+01:00".to_owned(),
        FieldKind::Url => format!("https://contoso.sharepoint.com/{path}"),
        _ => format!("value of {path}"),
    }
}

#[test]
fn the_table_the_setter_the_writer_and_the_reader_agree() {
    let mut paths = Vec::new();
    leaves(UsedInsight::MODEL, "", &mut paths);
    assert_eq!(paths.len(), 14, "{paths:?}");
    let values: Vec<(String, String)> = paths
        .iter()
        .map(|(path, kind)| (path.clone(), sample(*kind, path)))
        .collect();
    let (insight, problems) =
        bindings::insight_from_texts(values.iter().map(|(p, v)| (p.as_str(), v.as_str())));
    assert_eq!(problems, []);
    insight.validate().unwrap();

    // Each value is written at its wire path, with each object's @odata.type.
    let json: serde_json::Value = serde_json::from_str(&insight.to_json()).unwrap();
    for (path, value) in &values {
        let mut at = &json;
        for key in path.split('.') {
            at = &at[key];
        }
        assert_eq!(at.as_str(), Some(value.as_str()), "{path}");
    }
    assert_eq!(json["@odata.type"], UsedInsight::MODEL.odata_type);
    for field in UsedInsight::MODEL.fields {
        if let FieldKind::Object(nested) = field.kind {
            assert_eq!(json[field.wire_name]["@odata.type"], nested.odata_type);
        }
    }
    // … and read back to the same model.
    assert_eq!(UsedInsight::from_json(&insight.to_json()).unwrap(), insight);
}

#[test]
fn the_table_names_the_rust_fields_and_what_is_required() {
    let top: Vec<(&str, bool)> = UsedInsight::MODEL
        .fields
        .iter()
        .map(|f| (f.name, f.required))
        .collect();
    assert_eq!(
        top,
        [
            ("id", false),
            ("last_used", true),
            ("resource_visualization", true),
            ("resource_reference", true)
        ]
    );
    let visualization = UsedInsight::MODEL.field("resourceVisualization").unwrap();
    let FieldKind::Object(visualization) = visualization.kind else {
        panic!("resourceVisualization is an object");
    };
    assert_eq!(visualization.name, "ResourceVisualization");
    assert_eq!(visualization.field("type").unwrap().name, "type");
}

#[test]
fn texts_that_do_not_parse_or_fit_are_problems_in_order() {
    let (insight, problems) = bindings::insight_from_texts([
        ("lastUsed.lastModifiedDateTime", "soon"),
        ("resourceVisualization.nope", "x"),
        ("lastUsed", "x"),
    ]);
    let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "lastUsed.lastModifiedDateTime",
            "resourceVisualization.nope",
            "lastUsed"
        ]
    );
    // The object a member was given for exists, even if the value failed.
    assert!(insight.last_used.is_some());
}

#[test]
fn a_binding_s_problems_come_between_the_user_id_and_core_s_rules() {
    let (insight, _) = bindings::insight_from_texts([("resourceReference.webUrl", "not a url")]);
    let found = vec![Problem {
        path: "lastUsed".into(),
        reason: "expected a dict, found set".into(),
    }];
    let errors = bindings::validate_create(" ", &insight, found).unwrap_err();
    let paths: Vec<&str> = errors.problems().iter().map(|p| p.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "usersId",
            "lastUsed",
            "resourceVisualization",
            "resourceReference.webUrl"
        ]
    );
}

#[test]
fn zero_timeouts_are_refused_by_the_builder() {
    for builder in [
        Client::builder().token("t").timeout(Duration::ZERO),
        Client::builder().token("t").connect_timeout(Duration::ZERO),
    ] {
        let err = builder.build().unwrap_err();
        assert!(matches!(err, Error::InvalidConfig(_)), "{err:?}");
        assert!(err.to_string().contains("must be more than zero"), "{err}");
    }
}

#[test]
fn the_builder_tells_its_settings() {
    let b = Client::builder();
    assert_eq!(b.credential_kind(), None);
    assert_eq!(b.get_base_url(), "https://graph.microsoft.com");
    assert_eq!(b.get_api_version().as_str(), "v1.0");
    assert_eq!(b.get_timeout(), Duration::from_secs(60));
    assert_eq!(b.get_connect_timeout(), Duration::from_secs(10));
    assert_eq!(b.get_retry_policy().max_retries, 3);
    assert_eq!(b.get_user_agent(), None);
    let b = b.token_provider(|| Ok("t".into())).user_agent("contoso/1");
    assert_eq!(b.credential_kind(), Some(CredentialKind::TokenProvider));
    assert_eq!(b.get_user_agent(), Some("contoso/1"));
}

#[test]
fn concurrency_zero_is_refused_for_every_input_and_nothing_is_sent() {
    let emu = common::emulator();
    let client = common::client(&emu);
    let items = vec![("alice@contoso.com", common::insight()); 3];
    let results = client.create_many_with(&items, &BatchOptions::default().with_concurrency(0));
    assert_eq!(results.len(), 3);
    for result in results {
        match result.unwrap_err() {
            Error::InvalidConfig(e) => assert_eq!(e, bindings::concurrency(0).unwrap_err()),
            other => panic!("{other:?}"),
        }
    }
    assert!(emu.requests().is_empty(), "nothing may be sent");
    assert_eq!(bindings::concurrency(1).unwrap(), 1);
    assert_eq!(bindings::concurrency(i128::MAX).unwrap(), usize::MAX);
}
