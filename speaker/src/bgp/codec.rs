//! BGP message codec (RFC 4271, 4760, 6793, 1997, 8092, 7606): filled by the BGP codec work.
