//! Texts that many records repeat, kept once and shared.

use std::sync::Arc;

use foldhash::HashSet;

/// Distinct texts kept for sharing; past this many a new text is still returned, only not
/// remembered (so a capture where every request sends another `User-Agent` costs what it did
/// before interning, not an unbounded table beside it).
pub(crate) const MAX_INTERNED: usize = 4096;

/// Shared copies of repeated texts: a browser sends the same `User-Agent` on every connection of
/// every session, and each connection record and session record keeps it.
#[derive(Debug, Default)]
pub(crate) struct Interned {
    set: HashSet<Arc<str>>,
}

impl Interned {
    /// The shared copy of `text`, made on its first appearance.
    pub(crate) fn get(&mut self, text: &str) -> Arc<str> {
        if let Some(a) = self.set.get(text) {
            return Arc::clone(a);
        }
        let a: Arc<str> = Arc::from(text);
        if self.set.len() < MAX_INTERNED {
            self.set.insert(Arc::clone(&a));
        }
        a
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_text_twice_is_one_allocation() {
        let mut i = Interned::default();
        let a = i.get("Mozilla/5.0 (X11; Linux x86_64)");
        let b = i.get("Mozilla/5.0 (X11; Linux x86_64)");
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(&*b, "Mozilla/5.0 (X11; Linux x86_64)");
        assert!(!Arc::ptr_eq(&a, &i.get("node-XMLHttpRequest")));
    }

    #[test]
    fn past_the_limit_texts_are_returned_but_not_kept() {
        let mut i = Interned::default();
        for n in 0..MAX_INTERNED + 10 {
            assert_eq!(&*i.get(&n.to_string()), n.to_string());
        }
        assert_eq!(i.set.len(), MAX_INTERNED);
        let late = MAX_INTERNED + 5;
        assert!(!Arc::ptr_eq(
            &i.get(&late.to_string()),
            &i.get(&late.to_string())
        ));
    }
}
