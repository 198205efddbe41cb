//! The dependency graph between units: ordering edges come from `after` and `requires`
//! (`wants` starts a unit too but does not order it). Finds cycles, each named in order,
//! and the start order. Pure: works on names only.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use super::model::Unit;

/// A dependency cycle, starting at its alphabetically first member; the edge from the
/// last member back to the first closes it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Cycle(pub Vec<String>);

impl Cycle {
    /// `a -> b -> c -> a`.
    pub fn describe(&self) -> String {
        let mut names = self.0.clone();
        names.extend(self.0.first().cloned());
        names.join(" -> ")
    }
}

/// Every unit's ordering dependencies on known units, by name, duplicates removed.
fn ordering_edges(units: &[Unit]) -> BTreeMap<&str, Vec<&str>> {
    let known: BTreeSet<&str> = units.iter().map(|u| u.name.as_str()).collect();
    units
        .iter()
        .map(|unit| {
            let mut targets: Vec<&str> = Vec::new();
            for target in unit.after.iter().chain(&unit.requires) {
                if known.contains(target.as_str()) && !targets.contains(&target.as_str()) {
                    targets.push(target);
                }
            }
            (unit.name.as_str(), targets)
        })
        .collect()
}

/// The shortest path of edges from `start` back to itself, if there is one.
fn shortest_cycle<'a>(
    edges: &BTreeMap<&'a str, Vec<&'a str>>,
    start: &'a str,
) -> Option<Vec<&'a str>> {
    let mut previous: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue = VecDeque::from([start]);
    while let Some(node) = queue.pop_front() {
        for &next in edges.get(node).into_iter().flatten() {
            if next == start {
                let mut path = vec![node];
                let mut current = node;
                while let Some(&before) = previous.get(current) {
                    path.push(before);
                    current = before;
                }
                path.reverse();
                return Some(path);
            }
            if !previous.contains_key(next) {
                previous.insert(next, node);
                queue.push_back(next);
            }
        }
    }
    None
}

/// Every unit that lies on a dependency cycle, with the (shortest) cycle it lies on.
pub fn find_cycles(units: &[Unit]) -> BTreeMap<String, Cycle> {
    let edges = ordering_edges(units);
    edges
        .keys()
        .filter_map(|&name| {
            let path = shortest_cycle(&edges, name)?;
            Some((name.to_string(), canonical(path)))
        })
        .collect()
}

/// Rotates a cycle to start at its first member by name, so each cycle has one spelling.
fn canonical(mut path: Vec<&str>) -> Cycle {
    let first = path
        .iter()
        .enumerate()
        .min_by_key(|(_, name)| **name)
        .map_or(0, |(index, _)| index);
    path.rotate_left(first);
    Cycle(path.into_iter().map(str::to_string).collect())
}

/// The units in an order that starts every unit after its `after` and `requires`
/// dependencies; ties are broken by name. Dependencies on unknown units are ignored.
pub fn start_order(units: &[Unit]) -> Result<Vec<String>, Cycle> {
    let edges = ordering_edges(units);
    let mut waiting_on: BTreeMap<&str, usize> = edges
        .iter()
        .map(|(name, targets)| (*name, targets.len()))
        .collect();
    let mut dependents: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (name, targets) in &edges {
        for target in targets {
            dependents.entry(target).or_default().push(name);
        }
    }
    let mut ready: BTreeSet<&str> = waiting_on
        .iter()
        .filter(|(_, count)| **count == 0)
        .map(|(name, _)| *name)
        .collect();
    let mut order = Vec::with_capacity(edges.len());
    while let Some(name) = ready.pop_first() {
        order.push(name.to_string());
        for dependent in dependents.get(name).into_iter().flatten() {
            if let Some(count) = waiting_on.get_mut(dependent) {
                *count = count.saturating_sub(1);
                if *count == 0 {
                    ready.insert(dependent);
                }
            }
        }
    }
    match find_cycles(units).into_values().min() {
        Some(cycle) if order.len() < edges.len() => Err(cycle),
        _ => Ok(order),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::unit::parse::parse_unit;
    use std::path::Path;

    fn unit(name: &str, after: &[&str], requires: &[&str], wants: &[&str]) -> Unit {
        let list = |names: &[&str]| format!("{names:?}");
        let text = format!(
            "command = \"x\"\nafter = {}\nrequires = {}\nwants = {}\n",
            list(after),
            list(requires),
            list(wants)
        );
        parse_unit(name, Path::new(name), &text).unwrap()
    }

    fn cycle(names: &[&str]) -> Cycle {
        Cycle(names.iter().map(|n| n.to_string()).collect())
    }

    #[test]
    fn start_order_puts_dependencies_first_and_breaks_ties_by_name() {
        let units = [
            unit("web", &["db"], &["cache"], &[]),
            unit("cache", &[], &[], &[]),
            unit("db", &[], &[], &["web"]),
            unit("audit", &[], &[], &[]),
            unit("worker", &["missing"], &["db"], &[]),
        ];
        assert_eq!(
            start_order(&units).unwrap(),
            ["audit", "cache", "db", "web", "worker"]
        );
    }

    #[test]
    fn finds_a_cycle_in_order() {
        let units = [
            unit("b", &["c"], &[], &[]),
            unit("a", &[], &["b"], &[]),
            unit("c", &["a"], &[], &[]),
            unit("d", &["a"], &[], &[]),
        ];
        let cycles = find_cycles(&units);
        assert_eq!(cycles.keys().collect::<Vec<_>>(), ["a", "b", "c"]);
        assert!(cycles.values().all(|c| *c == cycle(&["a", "b", "c"])));
        assert_eq!(cycle(&["a", "b", "c"]).describe(), "a -> b -> c -> a");
        assert_eq!(start_order(&units), Err(cycle(&["a", "b", "c"])));
    }

    #[test]
    fn a_unit_after_itself_is_a_cycle() {
        let cycles = find_cycles(&[unit("a", &["a"], &[], &[])]);
        assert_eq!(cycles["a"].describe(), "a -> a");
    }

    #[test]
    fn two_node_cycle() {
        let cycles = find_cycles(&[unit("x", &["y"], &[], &[]), unit("y", &["x"], &[], &[])]);
        assert_eq!(cycles["y"], cycle(&["x", "y"]));
    }

    #[test]
    fn wants_does_not_order() {
        let units = [unit("a", &[], &[], &["b"]), unit("b", &[], &[], &["a"])];
        assert!(find_cycles(&units).is_empty());
        assert_eq!(start_order(&units).unwrap(), ["a", "b"]);
    }
}
