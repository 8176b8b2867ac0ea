//! The router's name tables (paths, nodes, intents): names kept sorted, found by binary
//! search. A call looks up one or two short names; against a `HashMap<String, _>` this skips
//! SipHash over the name (~190 instructions and ~15 cache lines of code a call, measured with
//! `benches/instructions.sh` and cachegrind) for a few `memcmp`s.

/// Values by name, sorted by name.
#[derive(Clone, Debug)]
pub(crate) struct Names<V> {
    entries: Vec<(Box<str>, V)>,
}

impl<V> Default for Names<V> {
    fn default() -> Self {
        Self { entries: Vec::new() }
    }
}

impl<V> Names<V> {
    /// Adds `value` under `name`; `false` (and nothing added) when the name is taken.
    pub(crate) fn insert(&mut self, name: &str, value: V) -> bool {
        match self.position(name) {
            Ok(_) => false,
            Err(at) => {
                self.entries.insert(at, (name.into(), value));
                true
            }
        }
    }

    pub(crate) fn get(&self, name: &str) -> Option<&V> {
        self.position(name).ok().map(|at| &self.entries[at].1)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn position(&self, name: &str) -> Result<usize, usize> {
        self.entries.binary_search_by(|(entry, _)| (**entry).cmp(name))
    }
}

#[cfg(test)]
mod tests {
    use super::Names;

    #[test]
    fn names_are_found_whatever_the_order_they_came_in() {
        let words = ["plan_erasmus", "greetings", "", "a", "zz", "plan", "plan_erasmus_2", "Plan"];
        let mut names = Names::default();
        assert!(names.is_empty());
        for (at, word) in words.iter().enumerate() {
            assert!(names.insert(word, at), "{word:?} is new");
        }
        assert!(!names.is_empty());
        for (at, word) in words.iter().enumerate() {
            assert_eq!(names.get(word), Some(&at), "{word:?}");
            assert!(!names.insert(word, 99), "{word:?} is taken");
        }
        assert_eq!(names.get("plan_erasmu"), None);
        assert_eq!(names.get("plan_erasmus_"), None);
        assert_eq!(names.get("PLAN"), None);
        assert_eq!(names.get(words[0]), Some(&0), "a refused insert keeps the first value");
    }
}
