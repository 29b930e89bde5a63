//! Plain data shared by native code and the browser.

use serde::{Deserialize, Serialize};

/// What the page shows of an item.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CatalogItem {
    /// The dataset's own id (MovieLens movie id, Last.FM item id, ...).
    pub id: String,
    pub title: String,
    pub year: Option<u16>,
    pub genres: Vec<String>,
}
