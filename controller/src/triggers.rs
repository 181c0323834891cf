//! What both watch loops share: watch streams reduced to "something changed", and a short
//! settling wait so that a burst of changes is handled in one pass.

use std::fmt::Display;
use std::time::Duration;

use futures::stream::{BoxStream, SelectAll};
use futures::{Stream, StreamExt, future};
use tracing::warn;

/// Every watch, merged: each item means "look again".
pub type Triggers = SelectAll<BoxStream<'static, ()>>;

/// Adds a watch stream to `triggers`, logging (not propagating) its errors: the watcher's
/// backoff retries them.
pub fn add<S, T, E>(triggers: &mut Triggers, what: impl Display + Send + 'static, stream: S)
where
    S: Stream<Item = Result<T, E>> + Send + 'static,
    E: Display,
{
    let stream = stream
        .filter_map(move |event| {
            future::ready(match event {
                Ok(_) => Some(()),
                Err(error) => {
                    warn!(kind = %what, %error, "watch failed; retrying");
                    None
                }
            })
        })
        .boxed();
    triggers.push(stream);
}

/// After a first change, waits while more keep coming `quiet` apart, for `at_most` in all.
pub async fn settle(triggers: &mut Triggers, quiet: Duration, at_most: Duration) {
    let started = tokio::time::Instant::now();
    while started.elapsed() < at_most {
        match tokio::time::timeout(quiet, triggers.next()).await {
            Ok(Some(())) => continue,
            _ => break,
        }
    }
}
