//! Speakers detecting each other's failure: filled by the members work.
