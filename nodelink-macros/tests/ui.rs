//! One compile-fail test per error message the macros emit, and pass tests for what
//! must compile. The `.stderr` files are the spec: regenerate them with
//! `TRYBUILD=overwrite cargo test -p nodelink-macros --test ui` and read the diff.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*/fail/*.rs");
    cases.pass("tests/ui/*/pass/*.rs");
}
