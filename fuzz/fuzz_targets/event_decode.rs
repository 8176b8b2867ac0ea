//! Any bytes as a custom-integration event: decoding never panics, and what decodes survives
//! a round trip through its JSON.
#![no_main]

use libfuzzer_sys::fuzz_target;
use moveo_dialog::events::Event;

fuzz_target!(|data: &[u8]| {
    let Ok(event) = Event::from_slice(data) else { return };
    let _ = event.event_type();
    let again = Event::from_value(event.to_value()).expect("an event's own JSON decodes");
    assert_eq!(again.to_value(), event.to_value(), "a decoded event survives a round trip");
});
