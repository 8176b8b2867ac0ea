//! Every limit that Moveo documents for a dialog-webhook reply, in one place.
//!
//! Lengths are counted in Unicode scalar values (`str::chars`), not bytes and not graphemes.
//! The builders in [`crate::reply`] enforce each of these when a [`Reply`](crate::Reply) is
//! built, and `schemas/reply.schema.json` states the same numbers.

/// Fewest quick-reply options a text response may carry when it carries any.
pub const MIN_OPTIONS: usize = 1;
/// Most quick-reply options a text response may carry.
pub const MAX_OPTIONS: usize = 10;
/// Shortest `text` of an option (the text sent back when it is selected).
pub const MIN_OPTION_TEXT_CHARS: usize = 1;
/// Shortest `label` of an option.
pub const MIN_OPTION_LABEL_CHARS: usize = 1;
/// Longest `label` of an option.
pub const MAX_OPTION_LABEL_CHARS: usize = 64;
/// Fewest cards in a carousel.
pub const MIN_CARDS: usize = 1;
/// Most cards in a carousel.
pub const MAX_CARDS: usize = 6;
/// Shortest card title.
pub const MIN_CARD_TITLE_CHARS: usize = 1;
/// Longest card title.
pub const MAX_CARD_TITLE_CHARS: usize = 64;
/// Longest card subtitle.
pub const MAX_CARD_SUBTITLE_CHARS: usize = 100;
/// Fewest buttons on a card that has buttons.
pub const MIN_BUTTONS: usize = 1;
/// Most buttons on a card.
pub const MAX_BUTTONS: usize = 3;
/// Context keys a reply may not write: Moveo reserves them.
pub const RESERVED_CONTEXT_KEYS: [&str; 2] = ["global", "channels"];
