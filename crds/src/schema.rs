//! Schema pieces shared by several kinds: lists of names, of label selectors, of addresses,
//! and the CEL expressions they carry. Each list is bounded (`maxItems`, `maxLength`) so the
//! apiserver can bound the cost of the CEL rules on it.

use schemars::{Schema, SchemaGenerator, json_schema};
use serde_json::{Value, json};

/// Most entries a list in a FerroLB object may have.
pub const MAX_ITEMS: u64 = 256;

/// A CEL expression that turns the dotted IPv4 address `s` (a CEL string expression) into a number.
fn v4_number(s: &str) -> String {
    (0..4).map(|i| format!("int({s}.split('.')[{i}]) * {}", 1u64 << (8 * (3 - i)))).collect::<Vec<_>>().join(" + ")
}

/// The rules one IPAddressPool `addresses` entry must pass: a CIDR, or a range
/// `first-last` of one family, whose first address is not after its last (checked here for
/// IPv4; the controller checks IPv6 too).
pub fn address_entry_rules() -> Value {
    let first = "self.split('-')[0].trim()";
    let last = "self.split('-')[1].trim()";
    let syntax = format!(
        "isCIDR(self) || (self.split('-').size() == 2 && isIP({first}) && isIP({last}) && \
         ip({first}).family() == ip({last}).family())"
    );
    let order = format!(
        "isCIDR(self) || self.split('-').size() != 2 || !isIP({first}) || !isIP({last}) || \
         ip({first}).family() != 4 || ip({last}).family() != 4 || {} <= {}",
        v4_number(first),
        v4_number(last)
    );
    json!([
        {"rule": syntax, "message": "must be a CIDR (203.0.113.0/24) or a range of one address family (203.0.113.10-203.0.113.20)"},
        {"rule": order, "message": "the first address of a range must not be after the last"},
    ])
}

/// Schema of `IPAddressPool.spec.addresses`: at least one entry, each checked by CEL.
pub fn addresses(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "array",
        "minItems": 1,
        "maxItems": MAX_ITEMS,
        "description": "The addresses the pool hands out: CIDRs (203.0.113.0/24, 2001:db8:100::/120) or \
            ranges (198.51.100.200-198.51.100.250), IPv4 and IPv6 mixed freely. Pools may not overlap.",
        "items": {
            "type": "string",
            "maxLength": 100,
            "x-kubernetes-validations": address_entry_rules(),
        },
    })
}

/// A list of object names (pools, peers, namespaces, interfaces), each at most 253 characters.
pub fn names(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "array",
        "maxItems": MAX_ITEMS,
        "items": {"type": "string", "maxLength": 253, "minLength": 1},
    })
}

/// A list of label selectors, bounded in length.
pub fn selectors(generator: &mut SchemaGenerator) -> Schema {
    let item = generator.subschema_for::<k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector>();
    json_schema!({
        "type": "array",
        "maxItems": MAX_ITEMS,
        "items": item,
    })
}

/// The rule for one BGP community value: `a:b` with 16-bit halves, or `large:a:b:c` with
/// 32-bit parts.
pub fn community_rule() -> Value {
    let standard = "(self.matches('^[0-9]{1,5}:[0-9]{1,5}$') && int(self.split(':')[0]) <= 65535 && \
                    int(self.split(':')[1]) <= 65535)";
    let large = "(self.matches('^large:[0-9]{1,10}:[0-9]{1,10}:[0-9]{1,10}$') && \
                 int(self.split(':')[1]) <= 4294967295 && int(self.split(':')[2]) <= 4294967295 && \
                 int(self.split(':')[3]) <= 4294967295)";
    let message = "must be a community (65535:65282) or a large community (large:64512:1:2)";
    json!([{"rule": format!("{standard} || {large}"), "message": message}])
}

/// `BGPAdvertisement.spec.communities`: literal communities or alias names.
pub fn communities(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "array",
        "maxItems": MAX_ITEMS,
        // Any text may name an alias (as in MetalLB), so only FerroLB's validation can tell a
        // malformed community from the name of an alias that does not exist.
        "items": {"type": "string", "minLength": 1, "maxLength": 64},
    })
}

/// `Community.spec.communities[].value`: a literal community.
pub fn community_value(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "string",
        "maxLength": 64,
        "description": "The community: 65535:65282 (two 16-bit numbers) or large:64512:1:2 (three 32-bit numbers).",
        "x-kubernetes-validations": community_rule(),
    })
}

/// A Go-style duration such as `90s`, `1m30s` or `500ms`.
pub fn duration(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "string",
        "maxLength": 32,
        "pattern": "^([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$",
    })
}

/// Network interface names: any text (checked by FerroLB's validation, which warns).
pub fn interfaces(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "array",
        "maxItems": MAX_ITEMS,
        // Any text, as in MetalLB; a name no Linux interface can have gets a warning.
        "items": {"type": "string", "maxLength": 253},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v4_numbers_weigh_each_octet() {
        assert_eq!(
            v4_number("x"),
            "int(x.split('.')[0]) * 16777216 + int(x.split('.')[1]) * 65536 + \
             int(x.split('.')[2]) * 256 + int(x.split('.')[3]) * 1"
        );
    }
}
