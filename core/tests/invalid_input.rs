//! Invalid input: every problem is reported at once, each with its path,
//! and nothing is sent.

mod common;

use common::{client, emulator, insight, paths_of};
use used_insight::Error;

#[test]
fn invalid_input_lists_every_problem_and_sends_nothing() {
    let emu = emulator();
    let mut bad = insight();
    bad.resource_reference.as_mut().unwrap().web_url = Some("javascript:alert(1)".into());
    bad.last_used = None;
    let err = client(&emu).create("bad\nuser", &bad).unwrap_err();
    let Error::InvalidInput(v) = &err else {
        panic!("{err:?}")
    };
    let paths = paths_of(v);
    assert_eq!(paths, ["usersId", "lastUsed", "resourceReference.webUrl"]);
    let err = client(&emu)
        .create_json("", r#"{"lastUsed": {"lastAccessedDateTime": "tomorrow"}}"#)
        .unwrap_err();
    let Error::InvalidInput(v) = &err else {
        panic!("{err:?}")
    };
    let paths = paths_of(v);
    assert_eq!(
        paths,
        [
            "usersId",
            "lastUsed.lastAccessedDateTime",
            "resourceVisualization",
            "resourceReference"
        ]
    );
    assert!(emu.requests().is_empty(), "nothing was sent");
}
