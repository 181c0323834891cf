//! Go durations ("90s", "1m30s", "500ms"), as `time.ParseDuration` reads them, since that is
//! how MetalLB and the CRD's fields spell them.

use std::time::Duration;

/// Nanoseconds in a Go `time.Duration` at most (a signed 64-bit count, about 292 years).
const MAX_NANOS: u128 = i64::MAX as u128;
/// Fraction digits kept; later ones are below a nanosecond for every unit but hours, and Go
/// drops digits past what it can hold as well.
const MAX_FRACTION_DIGITS: u32 = 18;

/// A text that is not a Go duration, with the text as written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{input:?} is not a valid duration: {problem}")]
pub struct DurationError {
    /// The text as written.
    pub input: String,
    /// What is wrong with it.
    pub problem: DurationProblem,
}

/// What is wrong with a duration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationProblem {
    /// Not of the form number-and-unit, repeated.
    #[error("it must be numbers with units, such as 90s, 1m30s or 500ms")]
    Malformed,
    /// A number without its unit.
    #[error("a number has no unit; use ns, us, ms, s, m or h")]
    MissingUnit,
    /// A unit Go does not know.
    #[error("unit {unit:?} is not one of ns, us, µs, ms, s, m, h")]
    UnknownUnit {
        /// The unit as written.
        unit: String,
    },
    /// A negative duration, which no FerroLB field accepts.
    #[error("it must not be negative")]
    Negative,
    /// Past what a Go duration holds.
    #[error("it is longer than the longest duration Go can hold (about 292 years)")]
    TooLong,
}

/// Parses a Go duration: an optional sign, then one or more decimal numbers (with optional
/// fraction) each followed by a unit of ns, us (or µs), ms, s, m or h, e.g. "90s", "1m30s",
/// "1.5h", "500ms"; "0" alone needs no unit. Negative durations are refused.
pub fn parse_go_duration(input: &str) -> Result<Duration, DurationError> {
    parse(input).map_err(|problem| DurationError { input: input.to_owned(), problem })
}

fn parse(input: &str) -> Result<Duration, DurationProblem> {
    let (negative, mut rest) = match input.as_bytes().first() {
        Some(b'-') => (true, &input[1..]),
        Some(b'+') => (false, &input[1..]),
        _ => (false, input),
    };
    if rest == "0" {
        return Ok(Duration::ZERO);
    }
    if rest.is_empty() {
        return Err(DurationProblem::Malformed);
    }
    let mut total: u128 = 0;
    while !rest.is_empty() {
        let (whole, after) = take_digits(rest);
        let whole_written = after.len() != rest.len();
        rest = after;
        let mut fraction = None;
        if let Some(after_dot) = rest.strip_prefix('.') {
            let (digits, after) = take_digits(after_dot);
            fraction = Some(digits);
            rest = after;
        }
        let fraction_written = fraction.is_some_and(|digits| !digits.is_empty());
        if !whole_written && !fraction_written {
            return Err(DurationProblem::Malformed);
        }
        let unit_len = rest.find(|c: char| c == '.' || c.is_ascii_digit()).unwrap_or(rest.len());
        let (unit, after) = rest.split_at(unit_len);
        rest = after;
        let nanos_per_unit = unit_nanos(unit)?;
        let whole = whole.parse::<u128>().unwrap_or(if whole.is_empty() { 0 } else { u128::MAX });
        let mut value = whole.checked_mul(nanos_per_unit).ok_or(DurationProblem::TooLong)?;
        if let Some(digits) = fraction {
            value = value.saturating_add(fraction_nanos(digits, nanos_per_unit));
        }
        total = total.saturating_add(value);
        if total > MAX_NANOS {
            return Err(DurationProblem::TooLong);
        }
    }
    if negative && total > 0 {
        return Err(DurationProblem::Negative);
    }
    let secs = u64::try_from(total / 1_000_000_000).map_err(|_| DurationProblem::TooLong)?;
    // The remainder is below 10^9, so it fits.
    let nanos = (total % 1_000_000_000) as u32;
    Ok(Duration::new(secs, nanos))
}

/// The leading ASCII digits of `text`, and what follows them.
fn take_digits(text: &str) -> (&str, &str) {
    let end = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    text.split_at(end)
}

/// Nanoseconds in `unit`, or why it is not one.
fn unit_nanos(unit: &str) -> Result<u128, DurationProblem> {
    Ok(match unit {
        "" => return Err(DurationProblem::MissingUnit),
        "ns" => 1,
        // Go accepts the micro sign (U+00B5) and the Greek small letter mu (U+03BC).
        "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        other => return Err(DurationProblem::UnknownUnit { unit: other.to_owned() }),
    })
}

/// Nanoseconds of the fraction `0.digits` of a unit, truncated as Go truncates.
fn fraction_nanos(digits: &str, nanos_per_unit: u128) -> u128 {
    let mut numerator: u128 = 0;
    let mut scale: u128 = 1;
    for digit in digits.bytes().take(MAX_FRACTION_DIGITS as usize) {
        numerator = numerator * 10 + u128::from(digit - b'0');
        scale *= 10;
    }
    numerator * nanos_per_unit / scale
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_go_reads() {
        let ms = Duration::from_millis;
        let cases = [
            ("0", Duration::ZERO),
            ("0s", Duration::ZERO),
            ("-0", Duration::ZERO),
            ("+5s", ms(5_000)),
            ("90s", ms(90_000)),
            ("1m30s", ms(90_000)),
            ("500ms", ms(500)),
            ("1.5h", ms(5_400_000)),
            ("1.s", ms(1_000)),
            (".5s", ms(500)),
            ("2h45m", ms(9_900_000)),
            ("1h1m1s1ms1us1ns", Duration::new(3661, 1_001_001)),
            ("3µs", Duration::from_micros(3)),
            ("3\u{3bc}s", Duration::from_micros(3)),
            ("100ns", Duration::from_nanos(100)),
            ("0.000000001s", Duration::from_nanos(1)),
            ("0.0000000019s", Duration::from_nanos(1)),
            ("65535s", Duration::from_secs(65535)),
            ("2562047h", Duration::from_secs(2_562_047 * 3600)),
        ];
        for (input, want) in cases {
            assert_eq!(parse_go_duration(input), Ok(want), "{input}");
        }
    }

    #[test]
    fn refuses_with_a_reason() {
        use DurationProblem::*;
        let cases = [
            ("", Malformed),
            ("-", Malformed),
            ("s", Malformed),
            (".s", Malformed),
            ("1", MissingUnit),
            ("1s2", MissingUnit),
            ("10 s", UnknownUnit { unit: " s".into() }),
            ("1d", UnknownUnit { unit: "d".into() }),
            ("1S", UnknownUnit { unit: "S".into() }),
            ("-1s", Negative),
            ("2562048h", TooLong),
            ("99999999999999999999999999999999999999999s", TooLong),
        ];
        for (input, want) in cases {
            assert_eq!(parse_go_duration(input).map_err(|e| e.problem), Err(want), "{input:?}");
        }
    }

    #[test]
    fn error_reads_as_a_sentence() {
        let err = parse_go_duration("90").unwrap_err();
        assert_eq!(err.to_string(), "\"90\" is not a valid duration: a number has no unit; use ns, us, ms, s, m or h");
    }
}
