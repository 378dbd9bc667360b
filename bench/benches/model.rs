//! Micro-benchmark of the model work a create does before and after the
//! network: parse a full usedInsight (every property, the fixed 201 body the
//! end-to-end benchmark serves), validate it, and serialize it back.
//!
//! `cargo bench -j2 -p used-insight-bench --bench model`

use divan::black_box;
use used_insight::UsedInsight;

const FULL_INSIGHT: &str = include_str!("../fixtures/fixed_201_body.json");

fn main() {
    divan::main();
}

#[divan::bench]
fn parse() -> UsedInsight {
    UsedInsight::from_json(black_box(FULL_INSIGHT)).expect("the fixture parses")
}

#[divan::bench]
fn validate(bencher: divan::Bencher) {
    let insight = UsedInsight::from_json(FULL_INSIGHT).expect("the fixture parses");
    bencher.bench(|| {
        black_box(&insight)
            .validate()
            .expect("the fixture is valid")
    });
}

#[divan::bench]
fn serialize(bencher: divan::Bencher) {
    let insight = UsedInsight::from_json(FULL_INSIGHT).expect("the fixture parses");
    bencher.bench(|| black_box(&insight).to_json());
}

/// What a create costs in model work: serialize + validate the input, parse
/// the answer.
#[divan::bench]
fn serialize_validate_parse(bencher: divan::Bencher) {
    let insight = UsedInsight::from_json(FULL_INSIGHT).expect("the fixture parses");
    bencher.bench(|| {
        let insight = black_box(&insight);
        insight.validate().expect("the fixture is valid");
        let json = insight.to_json();
        UsedInsight::from_json(&json).expect("its own output parses")
    });
}
