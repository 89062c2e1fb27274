//! Building B-tree sets and maps without `collect()`.
//!
//! `collect()` into a B-tree first sorts the items with the standard stable sort, and that
//! sort is several KiB of machine code for every item type: with a few dozen types it was the
//! largest single cost in the binary. Inserting the items one by one builds the same set or
//! map (for a repeated key the last value wins, as with `collect()`), with code the binary
//! already has for `insert`.

use std::collections::{BTreeMap, BTreeSet};

/// The set of `items`; the same as `items.into_iter().collect()`.
pub fn set<T: Ord>(items: impl IntoIterator<Item = T>) -> BTreeSet<T> {
    let mut set = BTreeSet::new();
    set.extend(items);
    set
}

/// The map of `items`; the same as `items.into_iter().collect()`.
pub fn map<K: Ord, V>(items: impl IntoIterator<Item = (K, V)>) -> BTreeMap<K, V> {
    let mut map = BTreeMap::new();
    map.extend(items);
    map
}

/// [`set`] and [`map`] at the end of an iterator chain, where `collect()` would be.
pub trait IntoTree: Iterator + Sized {
    /// The set of the items: [`set`].
    fn into_set(self) -> BTreeSet<Self::Item>
    where
        Self::Item: Ord,
    {
        set(self)
    }

    /// The map of the pairs: [`map`].
    fn into_map<K: Ord, V>(self) -> BTreeMap<K, V>
    where
        Self: Iterator<Item = (K, V)>,
    {
        map(self)
    }
}

impl<I: Iterator> IntoTree for I {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_as_collect() {
        let items = ["b", "a", "c", "a"];
        assert_eq!(set(items), items.into_iter().collect::<BTreeSet<_>>());
        let pairs = [("b", 1), ("a", 2), ("a", 3)];
        assert_eq!(map(pairs), pairs.into_iter().collect::<BTreeMap<_, _>>());
        assert_eq!(map(pairs).get("a"), Some(&3));
    }
}
