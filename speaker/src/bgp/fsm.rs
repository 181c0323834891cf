//! BGP session state machine (RFC 4271 section 8), sans-I/O: filled by the BGP FSM work.
