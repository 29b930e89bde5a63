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
    /// How many training users rated (interacted with) the item: what "well-known" means when
    /// a visitor asks for well-known items only. 0 where unknown.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub ratings: u32,
    /// An image of the item (a URL of the site that owns the data), shown by the widget unless
    /// its `images` attribute is `off`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// The item's own page (a URL), linked from its title in the widget.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// A user field a visitor may choose to fill in (MovieLens demographics): `labels[i]` names value
/// index `i + 1`; index 0 is "not given".
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProfileField {
    pub name: String,
    pub labels: Vec<String>,
}

impl CatalogItem {
    /// An item of a dataset without titles (Last.FM artists, Gowalla venues): `"{kind} {id}"`.
    pub fn unnamed(kind: &str, id: impl std::fmt::Display) -> Self {
        CatalogItem {
            id: id.to_string(),
            title: format!("{kind} {id}"),
            year: None,
            genres: Vec::new(),
            ratings: 0,
            image: None,
            link: None,
        }
    }
}
