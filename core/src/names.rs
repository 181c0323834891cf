//! Kubernetes name syntax: DNS-1123 subdomains (object names), qualified names (label keys) and
//! label values, checked the way the apiserver checks them.

/// Why a string is not a valid name, key or value; reads after "is invalid: ".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameProblem {
    /// The string is empty where a name is required.
    #[error("it must not be empty")]
    Empty,
    /// The string is too long.
    #[error("it must be at most {max} characters, not {len}")]
    TooLong {
        /// The limit.
        max: usize,
        /// The length found.
        len: usize,
    },
    /// Not a DNS-1123 subdomain.
    #[error(
        "it must consist of lower case alphanumeric characters, '-' or '.', and each \
         '.'-separated part must start and end with an alphanumeric character"
    )]
    NotDnsSubdomain,
    /// Not a valid name part of a qualified name, nor a valid label value.
    #[error(
        "it must consist of alphanumeric characters, '-', '_' or '.', and must start and end \
         with an alphanumeric character"
    )]
    BadCharacters,
    /// More than one '/' in a qualified name.
    #[error("it may contain at most one '/', between an optional DNS subdomain prefix and a name")]
    TooManySlashes,
    /// A '/' with nothing before it.
    #[error("the prefix before '/' must not be empty")]
    EmptyPrefix,
    /// The prefix of a qualified name is invalid.
    #[error("the prefix before '/' is invalid: {0}")]
    BadPrefix(Box<NameProblem>),
    /// The name part of a qualified name (after any prefix) is invalid.
    #[error("the name after the prefix is invalid: {0}")]
    BadNameAfterPrefix(Box<NameProblem>),
}

/// Longest DNS-1123 subdomain (an object name).
const MAX_SUBDOMAIN: usize = 253;
/// Longest label value, and longest name part of a qualified name.
const MAX_LABEL: usize = 63;

/// Checks an object name such as an IPAddressPool's: a DNS-1123 subdomain of at most 253
/// characters, e.g. "default-pool" or "pools.example.com".
pub fn check_dns_subdomain(name: &str) -> Result<(), NameProblem> {
    if name.is_empty() {
        return Err(NameProblem::Empty);
    }
    if name.len() > MAX_SUBDOMAIN {
        return Err(NameProblem::TooLong { max: MAX_SUBDOMAIN, len: name.len() });
    }
    let part_ok = |part: &str| {
        let bytes = part.as_bytes();
        let edge = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
        bytes.first().is_some_and(edge) && bytes.last().is_some_and(edge) && bytes.iter().all(|b| edge(b) || *b == b'-')
    };
    if name.split('.').all(part_ok) { Ok(()) } else { Err(NameProblem::NotDnsSubdomain) }
}

/// Checks a label key: an optional DNS-subdomain prefix and '/', then a name of at most 63
/// characters from `[-_.A-Za-z0-9]` starting and ending with `[A-Za-z0-9]`.
pub fn check_qualified_name(key: &str) -> Result<(), NameProblem> {
    let mut parts = key.split('/');
    let (prefix, name) = match (parts.next(), parts.next(), parts.next()) {
        (Some(name), None, _) => (None, name),
        (Some(prefix), Some(name), None) => (Some(prefix), name),
        _ => return Err(NameProblem::TooManySlashes),
    };
    if let Some(prefix) = prefix {
        if prefix.is_empty() {
            return Err(NameProblem::EmptyPrefix);
        }
        check_dns_subdomain(prefix).map_err(|p| NameProblem::BadPrefix(Box::new(p)))?;
    }
    let checked = if name.is_empty() { Err(NameProblem::Empty) } else { check_label_value(name) };
    match (prefix, checked) {
        (Some(_), Err(problem)) => Err(NameProblem::BadNameAfterPrefix(Box::new(problem))),
        (None, checked) => checked,
        (Some(_), Ok(())) => Ok(()),
    }
}

/// Checks a label value: empty, or at most 63 characters from `[-_.A-Za-z0-9]` starting and
/// ending with `[A-Za-z0-9]`.
pub fn check_label_value(value: &str) -> Result<(), NameProblem> {
    if value.len() > MAX_LABEL {
        return Err(NameProblem::TooLong { max: MAX_LABEL, len: value.len() });
    }
    let bytes = value.as_bytes();
    let edge = |b: &u8| b.is_ascii_alphanumeric();
    let ok = bytes.is_empty()
        || (bytes.first().is_some_and(edge)
            && bytes.last().is_some_and(edge)
            && bytes.iter().all(|b| edge(b) || matches!(b, b'-' | b'_' | b'.')));
    if ok { Ok(()) } else { Err(NameProblem::BadCharacters) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_subdomains() {
        let long_ok = format!("{}.{}", "a".repeat(126), "b".repeat(126));
        let too_long = "a".repeat(254);
        for ok in ["a", "default-pool", "pools.example.com", "0", "a-b.c-d", long_ok.as_str()] {
            assert_eq!(check_dns_subdomain(ok), Ok(()), "{ok}");
        }
        let cases = [
            ("", NameProblem::Empty),
            (too_long.as_str(), NameProblem::TooLong { max: 253, len: 254 }),
            ("Pool", NameProblem::NotDnsSubdomain),
            ("-pool", NameProblem::NotDnsSubdomain),
            ("pool-", NameProblem::NotDnsSubdomain),
            ("a..b", NameProblem::NotDnsSubdomain),
            (".a", NameProblem::NotDnsSubdomain),
            ("a_b", NameProblem::NotDnsSubdomain),
            (" pool", NameProblem::NotDnsSubdomain),
        ];
        for (bad, want) in cases {
            assert_eq!(check_dns_subdomain(bad), Err(want), "{bad:?}");
        }
    }

    #[test]
    fn qualified_names() {
        let name63 = "n".repeat(63);
        let name64 = "n".repeat(64);
        let with_prefix_64 = format!("example.com/{name64}");
        for ok in ["app", "App_1.x-y", "kubernetes.io/hostname", "a/b", name63.as_str()] {
            assert_eq!(check_qualified_name(ok), Ok(()), "{ok}");
        }
        let boxed = |p| Box::new(p);
        let cases = [
            ("", NameProblem::Empty),
            ("a/b/c", NameProblem::TooManySlashes),
            ("/app", NameProblem::EmptyPrefix),
            ("Example.com/app", NameProblem::BadPrefix(boxed(NameProblem::NotDnsSubdomain))),
            ("example.com/", NameProblem::BadNameAfterPrefix(boxed(NameProblem::Empty))),
            ("-app", NameProblem::BadCharacters),
            ("app.", NameProblem::BadCharacters),
            ("a b", NameProblem::BadCharacters),
            (name64.as_str(), NameProblem::TooLong { max: 63, len: 64 }),
            (
                with_prefix_64.as_str(),
                NameProblem::BadNameAfterPrefix(boxed(NameProblem::TooLong { max: 63, len: 64 })),
            ),
        ];
        for (bad, want) in cases {
            assert_eq!(check_qualified_name(bad), Err(want), "{bad:?}");
        }
    }

    #[test]
    fn label_values() {
        let v63 = "v".repeat(63);
        for ok in ["", "a", "A-b_c.9", v63.as_str()] {
            assert_eq!(check_label_value(ok), Ok(()), "{ok}");
        }
        let v64 = "v".repeat(64);
        let cases = [
            (v64.as_str(), NameProblem::TooLong { max: 63, len: 64 }),
            ("_a", NameProblem::BadCharacters),
            ("a-", NameProblem::BadCharacters),
            ("a/b", NameProblem::BadCharacters),
            ("é", NameProblem::BadCharacters),
        ];
        for (bad, want) in cases {
            assert_eq!(check_label_value(bad), Err(want), "{bad:?}");
        }
    }
}
