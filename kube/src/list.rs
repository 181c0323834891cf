//! Listing many objects page by page, so that a list of thousands (a speaker's status objects at
//! 10,000 Services) never sits in memory at once: each page is handed on and dropped.

use std::fmt::Debug;

use kube::Api;
use kube::api::ListParams;
use serde::de::DeserializeOwned;

/// Objects per page: large enough that a list costs few requests, small enough that a page of
/// status objects is a few hundred KiB.
pub const PAGE: u32 = 500;

/// Lists what `params` selects, a page of at most [`PAGE`] objects at a time, calling `each` on
/// every object as its page arrives.
pub async fn each_page<K>(api: &Api<K>, params: &ListParams, mut each: impl FnMut(K)) -> Result<(), kube::Error>
where
    K: Clone + DeserializeOwned + Debug,
{
    let mut params = params.clone().limit(PAGE);
    loop {
        let page = api.list(&params).await?;
        let next = page.metadata.continue_.clone().filter(|token| !token.is_empty());
        page.items.into_iter().for_each(&mut each);
        match next {
            Some(token) => params = params.continue_token(&token),
            None => return Ok(()),
        }
    }
}
