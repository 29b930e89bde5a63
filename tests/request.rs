//! The request text the wasm surface parses: bounded before parsing, typed errors for every
//! hostile shape, never a stack overflow or a runaway allocation.

use tanp::error::TanpError;
use tanp::recommend::MAX_SUPPORT;
use tanp::request::{MAX_REQUEST_BYTES, Request};

fn refused(text: &str) -> String {
    match Request::parse(text, 100) {
        Err(e @ TanpError::Request(_)) => e.to_string(),
        other => panic!("expected a request error, found {other:?}"),
    }
}

#[test]
fn a_well_formed_request_parses_with_its_defaults() {
    let r = Request::parse(
        r#"{"ratings":[{"item":1196,"rating":5},{"item":"m1","rating":2.5}]}"#,
        100,
    )
    .unwrap();
    assert_eq!(
        r.support,
        vec![("1196".to_string(), 5.0), ("m1".to_string(), 2.5)]
    );
    assert_eq!(r.options.top, 10);
    assert!(r.options.exclude_rated);
    assert_eq!(r.profile, None);
    let r = Request::parse(
        r#"{"ratings":[],"top":3,"exclude_rated":false,"profile":[1,0],"min_ratings":50}"#,
        100,
    )
    .unwrap();
    assert_eq!((r.options.top, r.options.min_ratings), (3, 50));
    assert_eq!(r.profile, Some(vec![1, 0]));
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let depth = 100_000;
    for (open, close) in [("[", "]"), ("{\"a\":", "}")] {
        let text = format!(
            r#"{{"ratings":[{{"item":{}1{},"rating":5}}]}}"#,
            open.repeat(depth),
            close.repeat(depth)
        );
        // Within the size cap: the parser's recursion limit answers, not the stack.
        let short = &text[..text.len().min(MAX_REQUEST_BYTES)];
        let err = refused(short);
        assert!(err.contains("recursion limit") && err.len() < 400, "{err}");
        let err = refused(&text);
        assert!(err.contains("bytes long"), "{err}");
    }
    let nested = format!("{}1{}", "[".repeat(1000), "]".repeat(1000));
    let err = refused(&format!(
        r#"{{"ratings":[{{"item":{nested},"rating":5}}]}}"#
    ));
    assert!(err.contains("recursion limit"), "{err}");
}

#[test]
fn unknown_fields_wrong_types_and_caps_are_refused() {
    let err = refused(r#"{"ratings":[],"evil":1}"#);
    assert!(err.contains("unknown field `evil`"), "{err}");
    let err = refused(r#"{"ratings":[{"item":1,"rating":5,"x":0}]}"#);
    assert!(err.contains("unknown field `x`"), "{err}");
    assert!(refused(r#"{"ratings":[{"item":1,"rating":"5"}]}"#).contains("invalid type"));
    assert!(refused(r#"{"ratings":[{"item":true,"rating":5}]}"#).contains("item"));
    assert!(refused("null").contains("expected"));
    assert!(refused("").contains("expected"));
    assert!(refused(r#"{"ratings":[],"top":0}"#).contains("top must be between 1 and 100"));
    assert!(refused(r#"{"ratings":[],"top":101}"#).contains("found 101"));
    assert!(refused(r#"{"ratings":[],"top":-1}"#).contains("invalid value"));
    let many = vec![r#"{"item":1,"rating":5}"#; MAX_SUPPORT + 1].join(",");
    let err = refused(&format!(r#"{{"ratings":[{many}]}}"#));
    assert!(
        err.contains(&format!("it has {} ratings", MAX_SUPPORT + 1)),
        "{err}"
    );
    let err = refused(&" ".repeat(MAX_REQUEST_BYTES + 1));
    assert!(err.contains("bytes long"), "{err}");
    // A long id in a syntax error is not repeated in full.
    let err = refused(&format!(
        r#"{{"ratings":[{{"item":"{}"}}]}}"#,
        "y".repeat(50_000)
    ));
    assert!(err.len() < 400, "{} bytes", err.len());
}

#[test]
fn numeric_item_ids_take_the_catalog_spelling() {
    let r = Request::parse(
        r#"{"ratings":[{"item":1.0,"rating":1},{"item":1e308,"rating":1}]}"#,
        100,
    )
    .unwrap();
    assert_eq!(r.support[0].0, "1");
    assert!(
        r.support[1].0.len() > 300,
        "kept as written; the recommender shortens its echo"
    );
}
