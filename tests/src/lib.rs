//! Cross-crate stories. Helpers shared by the story tests live here.
