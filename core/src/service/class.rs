//! Which Services are FerroLB's: type LoadBalancer, and a loadBalancerClass it answers to.

/// FerroLB's own loadBalancerClass.
pub const DEFAULT_CLASS: &str = "ferrolb.io/lb";

/// Which loadBalancerClass FerroLB answers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassPolicy {
    /// The class FerroLB serves.
    pub class: String,
    /// Serve only Services that name the class (not those without a class).
    pub require_class: bool,
}

impl Default for ClassPolicy {
    fn default() -> Self {
        ClassPolicy { class: DEFAULT_CLASS.into(), require_class: false }
    }
}

/// Why FerroLB does not serve a Service.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotServed {
    /// The object has no name or namespace.
    #[error("it has no name or namespace")]
    Unnamed,
    /// It is not of type LoadBalancer.
    #[error("it is of type {type_}, not LoadBalancer")]
    NotLoadBalancer {
        /// Its type (ClusterIP when unset).
        type_: String,
    },
    /// It names another loadBalancerClass.
    #[error("its loadBalancerClass is {class}, not {ours}")]
    OtherClass {
        /// The class it names.
        class: String,
        /// The class FerroLB serves.
        ours: String,
    },
    /// It names no class, and FerroLB serves only its own.
    #[error("it has no loadBalancerClass, and FerroLB serves only {ours}")]
    NoClass {
        /// The class FerroLB serves.
        ours: String,
    },
}

impl ClassPolicy {
    /// Whether a Service of `type_` naming `class` is FerroLB's, and if not why.
    pub fn check(&self, type_: &str, class: Option<&str>) -> Result<(), NotServed> {
        if type_ != "LoadBalancer" {
            return Err(NotServed::NotLoadBalancer { type_: type_.into() });
        }
        match class {
            Some(class) if class != self.class => {
                Err(NotServed::OtherClass { class: class.into(), ours: self.class.clone() })
            }
            None if self.require_class => Err(NotServed::NoClass { ours: self.class.clone() }),
            _ => Ok(()),
        }
    }
}
