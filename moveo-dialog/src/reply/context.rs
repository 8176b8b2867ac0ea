//! The context updates of a reply: variables by name, kept sorted by name.

use std::borrow::Cow;
use std::fmt;

use serde::{Serialize, Serializer};
use serde_json::Value;

/// The context variables a [`Reply`](crate::Reply) sets, by name, in name order (the order
/// they are sent in).
///
/// A reply sets a handful of variables, so they are kept in one sorted `Vec`: setting one is a
/// binary search into one buffer, where a map would allocate a node and walk a tree.
///
/// ```
/// let reply = moveo_dialog::Reply::builder().context("b", 2).context("a", 1).context("b", 3).build()?;
/// let context = reply.context();
/// assert_eq!(context.len(), 2);
/// assert_eq!(context["b"], 3);
/// assert_eq!(context.get("c"), None);
/// assert_eq!(context.keys().collect::<Vec<_>>(), ["a", "b"]);
/// # Ok::<(), moveo_dialog::ReplyError>(())
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ContextUpdates {
    /// Sorted by name, each name once.
    entries: Vec<(Cow<'static, str>, Value)>,
}

impl ContextUpdates {
    /// The value set for `key`.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.position(key).ok().map(|at| &self.entries[at].1)
    }

    /// Whether the reply sets `key`.
    #[must_use]
    pub fn contains_key(&self, key: &str) -> bool {
        self.position(key).is_ok()
    }

    /// How many variables the reply sets.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the reply sets no variable.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The variables and their values, in name order.
    pub fn iter(&self) -> ContextIter<'_> {
        ContextIter(self.entries.iter())
    }

    /// The names of the variables, in order.
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &str> + ExactSizeIterator {
        self.entries.iter().map(|(key, _)| &**key)
    }

    /// Sets `key` to `value`, replacing an earlier value.
    pub(crate) fn insert(&mut self, key: Cow<'static, str>, value: Value) {
        match self.position(&key) {
            Ok(at) => self.entries[at].1 = value,
            Err(at) => self.entries.insert(at, (key, value)),
        }
    }

    fn position(&self, key: &str) -> Result<usize, usize> {
        self.entries.binary_search_by(|(name, _)| (**name).cmp(key))
    }
}

/// `context["key"]`: the value set for `key`, or `null` when the reply does not set it (as
/// indexing a [`serde_json::Value`] does; [`ContextUpdates::get`] tells the two apart).
impl std::ops::Index<&str> for ContextUpdates {
    type Output = Value;

    fn index(&self, key: &str) -> &Value {
        static NULL: Value = Value::Null;
        self.get(key).unwrap_or(&NULL)
    }
}

impl fmt::Debug for ContextUpdates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// A JSON object, its keys in order.
impl Serialize for ContextUpdates {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

impl<'a> IntoIterator for &'a ContextUpdates {
    type Item = (&'a str, &'a Value);
    type IntoIter = ContextIter<'a>;

    fn into_iter(self) -> ContextIter<'a> {
        self.iter()
    }
}

/// The variables of a [`ContextUpdates`] and their values, in name order.
#[derive(Debug, Clone)]
#[must_use = "iterators do nothing unless consumed"]
pub struct ContextIter<'a>(std::slice::Iter<'a, (Cow<'static, str>, Value)>);

impl<'a> Iterator for ContextIter<'a> {
    type Item = (&'a str, &'a Value);

    fn next(&mut self) -> Option<Self::Item> {
        self.0.next().map(|(key, value)| (&**key, value))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl DoubleEndedIterator for ContextIter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.0.next_back().map(|(key, value)| (&**key, value))
    }
}

impl ExactSizeIterator for ContextIter<'_> {}

impl std::iter::FusedIterator for ContextIter<'_> {}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn updates(pairs: &[(&'static str, Value)]) -> ContextUpdates {
        let mut updates = ContextUpdates::default();
        for (key, value) in pairs {
            updates.insert(Cow::Borrowed(key), value.clone());
        }
        updates
    }

    #[test]
    fn keys_are_kept_sorted_and_once_whatever_the_order_they_are_set_in() {
        let updates = updates(&[("m", json!(1)), ("z", json!(2)), ("a", json!(3)), ("m", json!(4)), ("b", json!(5))]);
        assert_eq!(updates.keys().collect::<Vec<_>>(), ["a", "b", "m", "z"]);
        assert_eq!(updates["m"], 4, "the last value set wins");
        assert_eq!(updates.iter().rev().map(|(key, _)| key).collect::<String>(), "zmba");
        assert_eq!(updates.iter().len(), 4);
    }

    #[test]
    fn serialises_as_the_map_a_btree_map_of_the_same_entries_would() {
        let pairs = [("zeta", json!([1, 2])), ("alpha", json!(null)), ("Beta", json!({"x": "y"})), ("é", json!(true))];
        let sorted: std::collections::BTreeMap<&str, Value> = pairs.iter().cloned().collect();
        let updates = updates(&pairs);
        assert_eq!(serde_json::to_string(&updates).unwrap(), serde_json::to_string(&sorted).unwrap());
        assert_eq!(format!("{updates:?}"), format!("{sorted:?}"));
    }

    #[test]
    fn a_key_not_set_reads_as_null_by_index_and_none_by_get() {
        let updates = updates(&[("set_to_null", Value::Null)]);
        assert_eq!(updates["missing"], Value::Null);
        assert_eq!(updates.get("missing"), None);
        assert_eq!(updates.get("set_to_null"), Some(&Value::Null));
        assert!(updates.contains_key("set_to_null") && !updates.contains_key("missing"));
        assert!(ContextUpdates::default().is_empty());
    }
}
