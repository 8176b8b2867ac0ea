//! Any bytes as a custom-integration event: `moveo_dialog_tests::properties::event_decodes`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| moveo_dialog_tests::properties::event_decodes(data));
