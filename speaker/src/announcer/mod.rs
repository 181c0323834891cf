//! Which addresses this node announces, and how: filled by the announcer work.
