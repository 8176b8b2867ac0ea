//! Any bytes as a dialog webhook request: `moveo_dialog_tests::properties::request_decodes`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| moveo_dialog_tests::properties::request_decodes(data));
