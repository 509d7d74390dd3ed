//! Small-number suppression against an attacker who knows every shown figure and how the
//! table adds up, and works out what is hidden by row, column and total arithmetic (exact
//! elimination over the rationals, written here independently of the suppression code), and
//! on small tables by trying every non-negative whole number for the hidden cells.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use nabo_core::disclosure::{Grid, Sum, suppress};
use proptest::prelude::*;

/// A fraction p/q, q > 0, in lowest terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Q(i128, i128);

fn gcd(a: i128, b: i128) -> i128 {
    if b == 0 {
        a.abs().max(1)
    } else {
        gcd(b, a % b)
    }
}

impl Q {
    fn new(p: i128, q: i128) -> Q {
        let g = gcd(p, q) * q.signum();
        Q(p / g, q / g)
    }
    fn int(p: i128) -> Q {
        Q(p, 1)
    }
    fn zero(self) -> bool {
        self.0 == 0
    }
    fn sub(self, o: Q) -> Q {
        Q::new(self.0 * o.1 - o.0 * self.1, self.1 * o.1)
    }
    fn mul(self, o: Q) -> Q {
        Q::new(self.0 * o.0, self.1 * o.1)
    }
    fn div(self, o: Q) -> Q {
        Q::new(self.0 * o.1, self.1 * o.0)
    }
}

/// The attacker: every sum is an equation; the shown figures are substituted; Gauss–Jordan
/// elimination; any equation left with one unknown gives that hidden figure's value.
fn recovered(values: &[u64], hidden: &[bool], sums: &[Sum]) -> Vec<(usize, i128)> {
    let unknowns: Vec<usize> = (0..values.len()).filter(|i| hidden[*i]).collect();
    let n = unknowns.len();
    // Rows: coefficients of the unknowns, then the constant (Σ ± shown figures moved over).
    let mut rows: Vec<Vec<Q>> = Vec::new();
    for s in sums {
        let mut row = vec![Q::int(0); n + 1];
        let mut add = |i: usize, sign: i128| match unknowns.iter().position(|u| *u == i) {
            Some(c) => row[c] = Q::new(row[c].0 + sign * row[c].1, row[c].1),
            None => row[n] = row[n].sub(Q::int(sign * values[i] as i128)),
        };
        add(s.total, 1);
        for p in &s.parts {
            add(*p, -1);
        }
        rows.push(row);
    }
    let mut r = 0;
    for c in 0..n {
        let Some(p) = (r..rows.len()).find(|i| !rows[*i][c].zero()) else {
            continue;
        };
        rows.swap(r, p);
        let pivot = rows[r][c];
        for x in rows[r].iter_mut() {
            *x = x.div(pivot);
        }
        let pr = rows[r].clone();
        for (i, row) in rows.iter_mut().enumerate() {
            if i != r && !row[c].zero() {
                let f = row[c];
                for (x, y) in row.iter_mut().zip(&pr) {
                    *x = x.sub(f.mul(*y));
                }
            }
        }
        r += 1;
    }
    let mut out = Vec::new();
    for row in &rows {
        let nz: Vec<usize> = (0..n).filter(|c| !row[*c].zero()).collect();
        if let [c] = nz[..] {
            let v = row[n].div(row[c]);
            assert_eq!(v.1, 1, "a sum of whole numbers gave a fraction");
            out.push((unknowns[c], v.0));
        }
    }
    out
}

/// The stronger attacker for small tables: every assignment of whole numbers ≥ 0 to the
/// hidden figures that fits every sum; a hidden figure with one possible value is recovered.
fn pinned_by_search(values: &[u64], hidden: &[bool], sums: &[Sum], max: u64) -> Vec<usize> {
    let unknowns: Vec<usize> = (0..values.len()).filter(|i| hidden[*i]).collect();
    let mut seen: Vec<std::collections::BTreeSet<u64>> = vec![Default::default(); unknowns.len()];
    let mut trial = values.to_vec();
    fn go(
        k: usize,
        unknowns: &[usize],
        trial: &mut Vec<u64>,
        sums: &[Sum],
        max: u64,
        seen: &mut Vec<std::collections::BTreeSet<u64>>,
    ) {
        // Prune: every sum whose figures are all known or assigned must hold already.
        let known = |i: usize| !unknowns[k..].contains(&i);
        let holds = sums.iter().all(|s| {
            !(known(s.total) && s.parts.iter().all(|p| known(*p)))
                || trial[s.total] == s.parts.iter().map(|p| trial[*p]).sum::<u64>()
        });
        if !holds {
            return;
        }
        if k == unknowns.len() {
            for (j, u) in unknowns.iter().enumerate() {
                seen[j].insert(trial[*u]);
            }
            return;
        }
        for x in 0..=max {
            trial[unknowns[k]] = x;
            go(k + 1, unknowns, trial, sums, max, seen);
        }
    }
    go(0, &unknowns, &mut trial, sums, max, &mut seen);
    unknowns
        .iter()
        .zip(&seen)
        .filter(|(_, s)| s.len() == 1)
        .map(|(u, _)| *u)
        .collect()
}

/// Areas × intervention areas, sessions held: one area ran 3 sessions of employment work.
fn board_example() -> (Grid, Vec<u64>) {
    let g = Grid { rows: 3, cols: 3 };
    let v = g.values(&[vec![24, 3, 16], vec![30, 12, 9], vec![18, 7, 22]]);
    (g, v)
}

#[test]
fn hiding_only_the_small_cell_is_undone_by_subtraction() {
    // The attack works: with only the 3 hidden, row total minus the rest gives it back.
    let (g, v) = board_example();
    let primary: Vec<bool> = v.iter().map(|x| *x > 0 && *x < 5).collect();
    assert_eq!(primary.iter().filter(|x| **x).count(), 1);
    let got = recovered(&v, &primary, &g.sums());
    assert_eq!(got, vec![(g.cell(0, 1), 3)]);
}

#[test]
fn with_complementary_suppression_no_hidden_cell_is_recovered() {
    let (g, v) = board_example();
    let sums = g.sums();
    let h = suppress(&v, &sums, 5);
    assert!(h[g.cell(0, 1)], "the 3 is hidden");
    assert!(h.iter().filter(|x| **x).count() >= 4, "{h:?}");
    assert_eq!(recovered(&v, &h, &sums), vec![], "{h:?}");
    // Nothing more than needed: the rest of the table stays visible.
    assert!(h.iter().filter(|x| !**x).count() >= v.len() / 2, "{h:?}");
}

#[test]
fn a_small_total_is_hidden_and_covered_too() {
    // A whole row adds up to 4 (1 + 0 + 3): the cells and the row total are all small.
    let g = Grid { rows: 2, cols: 3 };
    let v = g.values(&[vec![1, 0, 3], vec![9, 8, 12]]);
    let sums = g.sums();
    let h = suppress(&v, &sums, 5);
    assert!(h[g.cell(0, 0)] && h[g.cell(0, 2)] && h[g.row_total(0)]);
    assert_eq!(recovered(&v, &h, &sums), vec![]);
}

#[test]
fn the_threshold_is_the_tenants() {
    let (g, v) = board_example();
    let sums = g.sums();
    // Threshold 10: the 3, 7 and 9 are hidden, and still none recovered.
    let h = suppress(&v, &sums, 10);
    for (r, c) in [(0, 1), (2, 1), (1, 2)] {
        assert!(h[g.cell(r, c)]);
    }
    assert_eq!(recovered(&v, &h, &sums), vec![]);
    // Threshold 1: nothing is small.
    assert!(suppress(&v, &sums, 1).iter().all(|x| !x));
}

#[test]
fn totals_shared_by_two_tables_do_not_leak_either() {
    // The board shows sessions per area and per intervention area, both adding up to the
    // same headline total: one vector, the shared total once.
    // Figures 0..3 per area, 3..6 per intervention area, 6 the total.
    let v: Vec<u64> = vec![40, 3, 33, 20, 52, 4, 76];
    let sums = vec![
        Sum {
            total: 6,
            parts: vec![0, 1, 2],
        },
        Sum {
            total: 6,
            parts: vec![3, 4, 5],
        },
    ];
    let h = suppress(&v, &sums, 5);
    assert!(h[1] && h[5]);
    assert_eq!(recovered(&v, &h, &sums), vec![]);
    assert!(pinned_by_search(&v, &h, &sums, 80).is_empty(), "{h:?}");
}

#[test]
fn small_tables_resist_a_search_over_every_possible_value() {
    let g = Grid { rows: 2, cols: 2 };
    for cells in [
        vec![vec![2, 6], vec![7, 9]],
        vec![vec![1, 1], vec![8, 6]],
        vec![vec![4, 0], vec![6, 5]],
    ] {
        let v = g.values(&cells);
        let sums = g.sums();
        let h = suppress(&v, &sums, 5);
        let max = *v.iter().max().unwrap();
        assert!(
            pinned_by_search(&v, &h, &sums, max).is_empty(),
            "{cells:?}: {h:?}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Any table up to 5 × 5 and any threshold: nothing small shown, nothing recovered.
    #[test]
    fn no_table_gives_a_hidden_cell_away(
        rows in 1usize..5,
        cols in 1usize..5,
        seed in proptest::collection::vec(0u64..30, 25),
        threshold in 2u64..8,
    ) {
        let g = Grid { rows, cols };
        let cells: Vec<Vec<u64>> = (0..rows)
            .map(|r| (0..cols).map(|c| seed[r * 5 + c]).collect())
            .collect();
        let v = g.values(&cells);
        let sums = g.sums();
        let h = suppress(&v, &sums, threshold);
        for (i, x) in v.iter().enumerate() {
            prop_assert!(h[i] || *x == 0 || *x >= threshold, "small {x} shown");
        }
        prop_assert_eq!(recovered(&v, &h, &sums), vec![]);
    }
}
