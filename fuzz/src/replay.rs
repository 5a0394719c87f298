//! Case `INDEX` of seed `SEED`, drawn on its own, and its shrinking.
//!
//! Each case gets its own random generator, derived from the seed and its index, so a
//! finding is named by two numbers and replays without drawing the cases before it.
//! Shrinking follows proptest's value tree (simplify while the finding persists,
//! complicate when it went away); the decisions are recorded, so the minimal case is
//! named by `SEED:INDEX:DECISIONS` and drawn again from it without sending anything.

use std::fmt;
use std::str::FromStr;

use proptest::strategy::{Strategy as _, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use sha2::{Digest as _, Sha256};

use crate::case::{Case, case};
use crate::spec::Kinds;

/// The name of a case: seed, index and the shrink decisions (true: the finding
/// persisted) that lead from the drawn case to the one meant.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CaseId {
    /// The run's seed.
    pub seed: u64,
    /// The case's index in the run.
    pub index: u64,
    /// Shrink decisions, in order.
    pub shrink: Vec<bool>,
}

impl CaseId {
    /// The drawn (unshrunk) case `index` of `seed`.
    pub fn new(seed: u64, index: u64) -> Self {
        Self {
            seed,
            index,
            shrink: Vec::new(),
        }
    }
}

impl fmt::Display for CaseId {
    /// `SEED:INDEX`, or `SEED:INDEX:N.HEX` with N decisions packed into hex, first
    /// decision in the highest bit.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.seed, self.index)?;
        if !self.shrink.is_empty() {
            write!(f, ":{}.", self.shrink.len())?;
            for nibble in self.shrink.chunks(4) {
                let mut v = 0u8;
                for (i, b) in nibble.iter().enumerate() {
                    if *b {
                        v |= 8 >> i;
                    }
                }
                write!(f, "{v:x}")?;
            }
        }
        Ok(())
    }
}

impl FromStr for CaseId {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad =
            || format!("{s:?} is not SEED:INDEX or SEED:INDEX:N.HEX (as a report names a finding)");
        let mut parts = s.trim().split(':');
        let seed = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        let index = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        let mut shrink = Vec::new();
        if let Some(d) = parts.next() {
            let (n, hex) = d.split_once('.').ok_or_else(bad)?;
            let n: usize = n.parse().map_err(|_| bad())?;
            if hex.len() != n.div_ceil(4) {
                return Err(bad());
            }
            for c in hex.chars() {
                let v = c.to_digit(16).ok_or_else(bad)?;
                for i in 0..4 {
                    if shrink.len() < n {
                        shrink.push(v & (8 >> i) != 0);
                    }
                }
            }
        }
        if parts.next().is_some() {
            return Err(bad());
        }
        Ok(Self {
            seed,
            index,
            shrink,
        })
    }
}

fn rng_seed(seed: u64, index: u64) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"oauth2-fuzz case");
    h.update(seed.to_le_bytes());
    h.update(index.to_le_bytes());
    h.finalize().into()
}

/// The value tree of case `index` of `seed` for a target with `kinds`.
pub fn tree(kinds: Kinds, seed: u64, index: u64) -> Box<dyn ValueTree<Value = Case>> {
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &rng_seed(seed, index)),
    );
    loop {
        // The strategy has no filter, so a tree is always drawn; the loop only keeps
        // the type total.
        if let Ok(t) = case(kinds).new_tree(&mut runner) {
            return Box::new(t);
        }
    }
}

/// The case an id names: drawn, then shrunk along its recorded decisions.
pub fn draw(kinds: Kinds, id: &CaseId) -> Case {
    let mut t = tree(kinds, id.seed, id.index);
    let mut last = t.current();
    if id.shrink.is_empty() || !t.simplify() {
        return last;
    }
    for persisted in &id.shrink {
        if *persisted {
            last = t.current();
            if !t.simplify() {
                break;
            }
        } else if !t.complicate() {
            break;
        }
    }
    last
}

/// Shrinks a case whose answer was a finding: [`Shrinker::candidate`] gives the next
/// smaller case to try, [`Shrinker::tried`] says whether the finding persisted.
pub struct Shrinker {
    tree: Box<dyn ValueTree<Value = Case>>,
    id: CaseId,
    minimal: Case,
    started: bool,
    done: bool,
}

impl Shrinker {
    /// Starts from case `id` (unshrunk), whose answer was a finding.
    pub fn new(kinds: Kinds, seed: u64, index: u64) -> Self {
        let tree = tree(kinds, seed, index);
        let minimal = tree.current();
        Self {
            tree,
            id: CaseId::new(seed, index),
            minimal,
            started: false,
            done: false,
        }
    }

    /// The next case to try, or `None` when no smaller one is left.
    pub fn candidate(&mut self) -> Option<Case> {
        if self.done {
            return None;
        }
        if !self.started {
            self.started = true;
            if !self.tree.simplify() {
                self.done = true;
                return None;
            }
        }
        Some(self.tree.current())
    }

    /// Whether the finding persisted with the last candidate.
    pub fn tried(&mut self, persisted: bool) {
        self.id.shrink.push(persisted);
        if persisted {
            self.minimal = self.tree.current();
            if !self.tree.simplify() {
                self.done = true;
            }
        } else if !self.tree.complicate() {
            self.done = true;
        }
    }

    /// The smallest case that still gave the finding.
    pub fn minimal(&self) -> &Case {
        &self.minimal
    }

    /// Its name. Trailing decisions that did not keep a smaller case are dropped.
    pub fn id(&self) -> CaseId {
        let mut id = self.id.clone();
        while id.shrink.last() == Some(&false) {
            id.shrink.pop();
        }
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> Kinds {
        Kinds {
            token: true,
            password: true,
            revoke: true,
            introspect: true,
            authorize: true,
            login: false,
            resource: true,
            metadata: true,
            unknown: false,
        }
    }

    /// A name survives printing and parsing, and a bad one is refused with the form.
    #[test]
    fn ids_round_trip() {
        for shrink in [
            vec![],
            vec![true],
            vec![true, false, true, true, false],
            vec![false; 9],
        ] {
            let id = CaseId {
                seed: 7,
                index: 1234,
                shrink,
            };
            assert_eq!(id.to_string().parse::<CaseId>(), Ok(id.clone()), "{id}");
        }
        assert_eq!(CaseId::new(1, 2).to_string(), "1:2");
        for bad in ["", "1", "x:2", "1:2:3", "1:2:5.f", "1:2:3.g", "1:2:1.0:4"] {
            assert!(bad.parse::<CaseId>().is_err(), "{bad}");
        }
    }

    /// Case INDEX of SEED is the same whenever it is drawn, and another index differs.
    #[test]
    fn cases_are_addressed_by_seed_and_index() {
        let a = format!("{:?}", tree(all(), 3, 10).current());
        assert_eq!(a, format!("{:?}", tree(all(), 3, 10).current()));
        let others: Vec<String> = (11..20)
            .map(|i| format!("{:?}", tree(all(), 3, i).current()))
            .collect();
        assert!(others.iter().any(|o| *o != a));
    }

    /// Replaying the recorded decisions gives exactly the case the shrinker kept.
    #[test]
    fn shrink_decisions_replay() {
        for index in 0..40 {
            let mut s = Shrinker::new(all(), 9, index);
            let mut n = 0;
            // A made-up finding: persists while the case still has a mutation or is garbage.
            while let Some(c) = s.candidate() {
                n += 1;
                let persists = match &c {
                    Case::Mutated { mutations, .. } => !mutations.is_empty(),
                    Case::Garbage(_) => true,
                };
                s.tried(persists);
                if n > 200 {
                    break;
                }
            }
            let id = s.id();
            assert_eq!(
                format!("{:?}", draw(all(), &id)),
                format!("{:?}", s.minimal()),
                "{id}"
            );
        }
    }
}
