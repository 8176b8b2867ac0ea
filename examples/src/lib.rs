//! Runnable example servers; each example is a thin `main` over the functions here.
