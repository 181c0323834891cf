//! Watch streams merged into one stream of "look again" items. Watch errors are logged here and
//! not passed on: the watcher's backoff retries them, and the stores keep their last contents
//! meanwhile.

use std::fmt::Display;

use futures::stream::{BoxStream, SelectAll};
use futures::{Stream, StreamExt, future};
use tracing::warn;

/// Every watch, merged: each item says what to look at again.
pub type Triggers<T> = SelectAll<BoxStream<'static, T>>;

/// Adds a watch stream to `triggers`: each event it yields becomes `item`; its errors are
/// logged with `what` and dropped.
pub fn add<S, K, E, T>(triggers: &mut Triggers<T>, what: impl Display + Send + 'static, item: T, stream: S)
where
    S: Stream<Item = Result<K, E>> + Send + 'static,
    E: Display,
    T: Clone + Send + 'static,
{
    let stream = stream
        .filter_map(move |event| {
            future::ready(match event {
                Ok(_) => Some(item.clone()),
                Err(error) => {
                    warn!(kind = %what, %error, "watch failed; retrying");
                    None
                }
            })
        })
        .boxed();
    triggers.push(stream);
}
