//! Procedural macros for `moveo-dialog`. Use them through `moveo_dialog`, which re-exports them.
