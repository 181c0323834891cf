//! A configuration object as the watch keeps it: decoded into its type when it arrives, or,
//! when it does not fit the type (written before a CRD upgrade, say), kept with the reason so
//! that it is refused alone instead of failing the whole watch.
//!
//! The object is read once, from the API server's JSON into a `serde_json::Value` and from
//! that into its type; there is no round trip back to JSON.

use std::borrow::Cow;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, ObjectMeta};
use kube::Resource;
use serde::Deserialize;
use serde::de::{DeserializeOwned, Deserializer, Error as _};
use serde_json::Value;

/// One watched object of the kind `T`.
#[derive(Debug, Clone)]
pub struct Object<T> {
    /// Its metadata, read even when the rest does not fit `T` (without managedFields).
    pub metadata: ObjectMeta,
    /// Its status conditions, read even when the rest does not fit `T` (the controller keeps the
    /// conditions others own when it writes its own).
    pub conditions: Vec<Condition>,
    /// The object, or why it does not fit `T`.
    pub parsed: Result<T, String>,
}

impl<T> Object<T> {
    /// Reads `value`, an object of kind `T` as the API server sends it.
    pub fn read(mut value: Value) -> Result<Self, serde_json::Error>
    where
        T: DeserializeOwned,
    {
        if let Some(meta) = value.get_mut("metadata").and_then(Value::as_object_mut) {
            // Most of an object's size, and nothing here reads them.
            meta.remove("managedFields");
            if let Some(annotations) = meta.get_mut("annotations").and_then(Value::as_object_mut) {
                annotations.remove("kubectl.kubernetes.io/last-applied-configuration");
            }
        }
        let metadata = match value.get("metadata") {
            Some(meta) => ObjectMeta::deserialize(meta)?,
            None => ObjectMeta::default(),
        };
        let conditions =
            value.pointer("/status/conditions").and_then(|c| Vec::<Condition>::deserialize(c).ok()).unwrap_or_default();
        let parsed = T::deserialize(value).map_err(|e| e.to_string());
        Ok(Object { metadata, conditions, parsed })
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Object::read(Value::deserialize(deserializer)?).map_err(D::Error::custom)
    }
}

impl<T: Resource<DynamicType = ()>> Resource for Object<T> {
    type DynamicType = ();
    type Scope = T::Scope;

    fn kind(dt: &()) -> Cow<'_, str> {
        T::kind(dt)
    }
    fn group(dt: &()) -> Cow<'_, str> {
        T::group(dt)
    }
    fn version(dt: &()) -> Cow<'_, str> {
        T::version(dt)
    }
    fn plural(dt: &()) -> Cow<'_, str> {
        T::plural(dt)
    }
    fn meta(&self) -> &ObjectMeta {
        &self.metadata
    }
    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
    }
}
