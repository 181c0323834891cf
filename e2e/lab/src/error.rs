//! The lab's errors: each says what failed and what to do about it.

use std::io;

use crate::plan::PlanError;

/// Everything that can go wrong while building, using or removing a lab.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The lab creates network namespaces and links and starts routers; that takes root.
    #[error(
        "the lab needs root: it creates network namespaces, veth links and routes, and starts routers \
         (run it as root, e.g. with sudo)"
    )]
    NotRoot,
    /// A program the lab runs is not installed.
    #[error("{tool} is missing: install the Debian package `{package}` (scripts/setup installs everything)")]
    ToolMissing {
        /// The program.
        tool: String,
        /// The Debian package that ships it.
        package: &'static str,
    },
    /// Another lab already uses the name.
    #[error("a lab named {0} already exists: remove it with `ferrolb-lab down --name {0}`, or choose another --name")]
    NameInUse(String),
    /// No lab of that name exists.
    #[error("no lab named {0} exists (`ferrolb-lab status` lists the labs)")]
    NoSuchLab(String),
    /// The plan is invalid.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// A command exited with a failure.
    #[error("`{command}` failed ({status}): {output}")]
    Command {
        /// The command line.
        command: String,
        /// How it ended.
        status: String,
        /// What it printed on stderr (or stdout when stderr was empty).
        output: String,
    },
    /// A system call or file operation failed.
    #[error("{what}: {source}")]
    Io {
        /// What the lab was doing.
        what: String,
        /// The cause.
        source: io::Error,
    },
    /// A call to the apiserver failed.
    #[error("{what}: {source}")]
    Kube {
        /// What the lab was doing.
        what: String,
        /// The cause.
        source: kube::Error,
    },
    /// A lab process died or a wait ran out; the message says which and where its log is.
    #[error("{0}")]
    Failed(String),
}

impl Error {
    /// Wraps an I/O error with what the lab was doing.
    pub fn io(what: impl Into<String>) -> impl FnOnce(io::Error) -> Self {
        let what = what.into();
        move |source| Self::Io { what, source }
    }

    /// Wraps an apiserver error with what the lab was doing.
    pub fn kube(what: impl Into<String>) -> impl FnOnce(kube::Error) -> Self {
        let what = what.into();
        move |source| Self::Kube { what, source }
    }
}

/// The lab's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
