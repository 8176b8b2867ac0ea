//! Compile-time behaviour of the macros: what compiles, and the errors (with their spans) for
//! what must not. Regenerate the `.stderr` files with `TRYBUILD=overwrite` after a deliberate
//! change, and review them.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/pass/*.rs");
    cases.compile_fail("tests/ui/fail/*.rs");
}
