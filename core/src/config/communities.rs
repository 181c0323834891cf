//! BGP community values, and the Community objects that give them names.
//!
//! A value is written `a:b` (RFC 1997, two 16-bit numbers) or `large:a:b:c` (RFC 8092, three
//! 32-bit numbers), as MetalLB writes them. Names are defined by Community objects, each name
//! once in the whole cluster (MetalLB's rule): a newer object defining a name again is refused,
//! so that an advertisement's communities never change under it. A name may be any text, as in
//! MetalLB; one that is itself a community value shadows that value in advertisements, which is
//! accepted with a warning.

use std::collections::BTreeMap;

use ferrolb_crds::Community;

use super::validate::{Object, Problems, oldest_first, record};
use super::{CommunityValue, ObjectRef, Problem, Reason, Verdicts};

/// Longest alias name (the longest text an advertisement's `communities` entry may hold).
const MAX_ALIAS: usize = 64;

/// A text that is not a community value, with the text as written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{input:?} is not a valid BGP community: {problem}")]
pub struct CommunityError {
    /// The text as written.
    pub input: String,
    /// What is wrong with it.
    pub problem: CommunityProblem,
}

/// What is wrong with a community value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommunityProblem {
    /// Neither form.
    #[error("it must be a community such as 65535:65282 or a large community such as large:64512:1:2")]
    Malformed,
    /// A part is not a number in range.
    #[error("{part:?} is not a number from 0 to {max}")]
    OutOfRange {
        /// The part as written.
        part: String,
        /// The largest value the part may have.
        max: u32,
    },
}

/// Parses a community value: `a:b` with 16-bit numbers (e.g. "65535:65282") or `large:a:b:c`
/// with 32-bit numbers (e.g. "large:64512:1:2"). Numbers are decimal; leading zeros are allowed.
pub fn parse_community(input: &str) -> Result<CommunityValue, CommunityError> {
    parse(input).map_err(|problem| CommunityError { input: input.to_owned(), problem })
}

fn parse(input: &str) -> Result<CommunityValue, CommunityProblem> {
    if let Some(rest) = input.strip_prefix("large:") {
        let parts: Vec<&str> = rest.split(':').collect();
        let [a, b, c] = parts.as_slice() else {
            return Err(CommunityProblem::Malformed);
        };
        let number = |part: &str| number(part, u32::MAX);
        return Ok(CommunityValue::Large(number(a)?, number(b)?, number(c)?));
    }
    let Some((a, b)) = input.split_once(':') else {
        return Err(CommunityProblem::Malformed);
    };
    if b.contains(':') {
        return Err(CommunityProblem::Malformed);
    }
    let half = |part: &str| number(part, u32::from(u16::MAX)).map(|n| n as u16);
    Ok(CommunityValue::Standard(half(a)?, half(b)?))
}

/// A decimal number from 0 to `max`.
fn number(part: &str, max: u32) -> Result<u32, CommunityProblem> {
    let out_of_range = || CommunityProblem::OutOfRange { part: part.to_owned(), max };
    if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
        return Err(out_of_range());
    }
    part.parse::<u32>().ok().filter(|n| *n <= max).ok_or_else(out_of_range)
}

impl std::fmt::Display for CommunityValue {
    /// As written in the API: "65535:65282" or "large:64512:1:2".
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CommunityValue::Standard(a, b) => write!(f, "{a}:{b}"),
            CommunityValue::Large(a, b, c) => write!(f, "large:{a}:{b}:{c}"),
        }
    }
}

/// Whether `name` is a valid alias name: 1 to 64 characters.
pub(super) fn check_alias_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        Err("a community name must not be empty".to_owned())
    } else if name.len() > MAX_ALIAS {
        Err(format!("community name {name:?} is {} characters long; at most {MAX_ALIAS} are allowed", name.len()))
    } else {
        Ok(())
    }
}

/// The community names defined by accepted Community objects, and which refused objects
/// define names, so that an advertisement using one can say why it is not defined.
#[derive(Debug, Default)]
pub(super) struct Aliases {
    defined: BTreeMap<String, (CommunityValue, ObjectRef)>,
    refused: BTreeMap<String, ObjectRef>,
}

impl Aliases {
    /// Every defined name with its value.
    pub(super) fn values(&self) -> BTreeMap<String, CommunityValue> {
        self.defined.iter().map(|(name, (value, _))| (name.clone(), *value)).collect()
    }

    /// The value of the alias `name`, if one is defined.
    pub(super) fn get(&self, name: &str) -> Option<CommunityValue> {
        self.defined.get(name).map(|(value, _)| *value)
    }

    /// The value of the alias `name`, or the problem of `field` using it.
    pub(super) fn resolve(&self, field: String, name: &str) -> Result<CommunityValue, Problem> {
        if let Some((value, _)) = self.defined.get(name) {
            return Ok(*value);
        }
        let (message, other) = match self.refused.get(name) {
            Some(object) => (
                format!("names community {name}, which only {object} defines, and {object} is not accepted"),
                Some(object.clone()),
            ),
            None => (format!("names community {name}, which no Community defines"), None),
        };
        Err(Problem { field, reason: Reason::ReferenceNotFound, message, other })
    }
}

/// Validates every Community, oldest first, recording a verdict on each.
pub(super) fn validate(communities: &[Community], verdicts: &mut Verdicts) -> Aliases {
    let mut aliases = Aliases::default();
    for community in oldest_first(communities) {
        let mut problems = Problems::default();
        let mut mine: BTreeMap<&str, (usize, CommunityValue)> = BTreeMap::new();
        for (i, alias) in community.spec.communities.iter().enumerate() {
            let at = |field: &str| format!("spec.communities[{i}].{field}");
            if let Err(message) = check_alias_name(&alias.name) {
                problems.invalid(at("name"), message);
            }
            let value = match parse_community(&alias.value) {
                Ok(value) => value,
                Err(err) => {
                    problems.invalid(at("value"), err.to_string());
                    continue;
                }
            };
            if let Some((first, _)) = mine.get(alias.name.as_str()) {
                problems.invalid(at("name"), format!("defines {} a second time (first at [{first}])", alias.name));
                continue;
            }
            mine.insert(&alias.name, (i, value));
            if let Some((existing, owner)) = aliases.defined.get(&alias.name) {
                problems.add_with(
                    at("name"),
                    Reason::Duplicate,
                    format!(
                        "defines {} as {value}, but {owner}, which was created first, already defines it (as \
                         {existing}); a name may be defined once",
                        alias.name
                    ),
                    owner.clone(),
                );
            }
            if let Ok(literal) = parse_community(&alias.name) {
                problems.warn(
                    at("name"),
                    Reason::AliasShadowsValue,
                    format!(
                        "{} is itself a community value: advertisements writing {literal} get {value} instead",
                        alias.name
                    ),
                    None,
                );
            }
        }
        let me = community.object_ref();
        for (name, (_, value)) in mine {
            if problems.is_empty() {
                aliases.defined.entry(name.to_owned()).or_insert_with(|| (value, me.clone()));
            } else if !aliases.defined.contains_key(name) {
                aliases.refused.entry(name.to_owned()).or_insert_with(|| me.clone());
            }
        }
        record(verdicts, me, problems);
    }
    aliases
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_forms() {
        let cases = [
            ("65535:65282", CommunityValue::Standard(65535, 65282)),
            ("0:0", CommunityValue::Standard(0, 0)),
            ("064512:01", CommunityValue::Standard(64512, 1)),
            ("large:64512:1:2", CommunityValue::Large(64512, 1, 2)),
            ("large:4294967295:0:4294967295", CommunityValue::Large(u32::MAX, 0, u32::MAX)),
        ];
        for (input, want) in cases {
            assert_eq!(parse_community(input), Ok(want), "{input}");
            assert_eq!(parse_community(&want.to_string()), Ok(want), "{want} round-trips");
        }
    }

    #[test]
    fn refuses_with_a_reason() {
        let range = |part: &str, max| CommunityProblem::OutOfRange { part: part.to_owned(), max };
        let cases = [
            ("", CommunityProblem::Malformed),
            ("no-export", CommunityProblem::Malformed),
            ("1:2:3", CommunityProblem::Malformed),
            ("large:1:2", CommunityProblem::Malformed),
            ("large:1:2:3:4", CommunityProblem::Malformed),
            ("65536:1", range("65536", 65535)),
            ("1:-1", range("-1", 65535)),
            (":1", range("", 65535)),
            ("1: 2", range(" 2", 65535)),
            ("large:4294967296:1:2", range("4294967296", u32::MAX)),
            ("LARGE:1:2:3", CommunityProblem::Malformed),
        ];
        for (input, want) in cases {
            assert_eq!(parse_community(input).map_err(|e| e.problem), Err(want), "{input:?}");
        }
    }

    #[test]
    fn alias_names() {
        for ok in ["no-export", "a", "A.b_c-9", "1a", "a b", "a:b", &"a".repeat(64)] {
            assert_eq!(check_alias_name(ok), Ok(()), "{ok}");
        }
        for bad in ["", &"a".repeat(65)] {
            assert!(check_alias_name(bad).is_err(), "{bad:?}");
        }
    }
}
