//! What the wire format fixes for every part of the crate: the BGP version, and the shape of the
//! one-octet codes (message types, error codes and subcodes, ORIGIN values) as Rust enums.
//!
//! A leaf: it imports nothing of the crate, so the codec, the NOTIFICATION codes and the state
//! machine can all depend on it without depending on each other.

/// The only BGP version spoken (RFC 4271).
pub const BGP_VERSION: u8 = 4;

/// Defines a `#[repr(u8)]` enum of one-octet wire codes, with `from_u8` (the code for a raw octet)
/// and `name` (the RFC's name of the code, where the RFC gives one FerroLB prints).
macro_rules! wire_enum {
    (@name) => { None };
    (@name $text:literal) => { Some($text) };
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$variant_meta:meta])* $variant:ident = $value:literal $(=> $text:literal)?, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(u8)]
        $vis enum $name {
            $( $(#[$variant_meta])* $variant = $value, )+
        }

        impl $name {
            /// The code for a raw octet, `None` when unknown.
            pub fn from_u8(value: u8) -> Option<Self> {
                match value {
                    $( $value => Some(Self::$variant), )+
                    _ => None,
                }
            }

            /// The RFC's name of the code, when FerroLB prints one.
            pub fn name(self) -> Option<&'static str> {
                match self {
                    $( Self::$variant => wire_enum!(@name $($text)?), )+
                }
            }
        }
    };
}

pub(crate) use wire_enum;
