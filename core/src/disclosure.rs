//! Small-number suppression for published aggregates (the board view and the board pack,
//! ADR 0020): no count below the tenant's threshold is shown, and no hidden count can be
//! worked out from the shown ones by row, column or total arithmetic.
//!
//! A set of published figures is `values` plus the sums that tie them together ([`Sum`]: a
//! row total is the sum of its row, a column total of its column, the grand total of either
//! margin; a total shown in two tables is one figure in both). [`suppress`] hides
//!
//! 1. every figure `0 < v < threshold` (primary suppression; a zero says nothing about a
//!    person and stays), then
//! 2. while any hidden figure is still determined by the shown ones ([`recoverable`]: the
//!    sums form linear equations in the hidden figures, and a figure is determined exactly
//!    when its unit vector lies in their row space), one more figure of a sum that holds a
//!    determined one (or two at a time, where a two-way table needs a rectangle): the
//!    choice that leaves the fewest determined, then the smallest positive figures, so as
//!    little as possible is lost and no zero is used as cover (complementary suppression).
//!    Greedy with one step of look-ahead, not optimal: it may hide more than the least
//!    possible, never less than safe.
//!
//! Pure functions: no runtime, no storage.

/// A published figure that is the sum of others: `values[total] == Σ values[parts]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sum {
    /// The total's index.
    pub total: usize,
    /// The parts' indices.
    pub parts: Vec<usize>,
}

/// Which of `values` to hide so that no count `0 < v < threshold` is shown and none of the
/// hidden can be recovered from the shown ones through `sums`.
pub fn suppress(values: &[u64], sums: &[Sum], threshold: u64) -> Vec<bool> {
    let mut hidden: Vec<bool> = values.iter().map(|v| *v > 0 && *v < threshold).collect();
    // The cost of hiding a figure: positive figures first (a zero is no cover), small first.
    let cost = |i: usize| (values[i] == 0, values[i]);
    loop {
        let determined = recoverable(&hidden, sums);
        if !determined.iter().any(|d| *d) {
            return hidden;
        }
        // One more figure, if one suffices; else the best pair (a cycle in a two-way table
        // needs two at a time), looking one step ahead.
        let mut best: Option<(Choice, Vec<usize>)> = None;
        for a in candidates(&hidden, &determined, sums) {
            let mut one = hidden.clone();
            one[a] = true;
            let left = recoverable(&one, sums);
            let n = left.iter().filter(|d| **d).count();
            let key = (n, cost(a), (false, 0));
            if best.as_ref().is_none_or(|(k, _)| key < *k) {
                best = Some((key, vec![a]));
            }
            if n == 0 {
                continue;
            }
            for b in candidates(&one, &left, sums) {
                let mut two = one.clone();
                two[b] = true;
                let n2 = recoverable(&two, sums).iter().filter(|d| **d).count();
                let key = (n2, cost(a).max(cost(b)), cost(a).min(cost(b)));
                if n2 < n && best.as_ref().is_none_or(|(k, _)| key < *k) {
                    best = Some((key, vec![a, b]));
                }
            }
        }
        match best {
            Some((_, pick)) => {
                for i in pick {
                    hidden[i] = true;
                }
            }
            // Determined, yet every figure of its sums is hidden already (cannot happen
            // with consistent sums): hide everything tied to a sum, to stay safe.
            None => {
                for (i, h) in hidden.iter_mut().enumerate() {
                    if sums.iter().any(|s| s.total == i || s.parts.contains(&i)) {
                        *h = true;
                    }
                }
                return hidden;
            }
        }
    }
}

/// How good a choice of figures to hide is (smaller is better): how many figures stay
/// determined, then the cost of the dearer and the cheaper figure.
type Choice = (usize, (bool, u64), (bool, u64));

/// The shown figures of the sums that hold a determined hidden figure.
fn candidates(hidden: &[bool], determined: &[bool], sums: &[Sum]) -> Vec<usize> {
    let mut out: Vec<usize> = sums
        .iter()
        .filter(|s| determined[s.total] || s.parts.iter().any(|p| determined[*p]))
        .flat_map(|s| std::iter::once(s.total).chain(s.parts.iter().copied()))
        .filter(|i| !hidden[*i])
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// Which hidden figures the shown ones determine exactly through `sums` (linear algebra
/// over the sums; figures outside every sum are never determined).
pub fn recoverable(hidden: &[bool], sums: &[Sum]) -> Vec<bool> {
    let vars: Vec<usize> = (0..hidden.len()).filter(|i| hidden[*i]).collect();
    let col = |i: usize| vars.iter().position(|v| *v == i);
    // One equation per sum, over the hidden figures: total − Σ parts = (shown constant).
    let mut m: Vec<Vec<f64>> = sums
        .iter()
        .map(|s| {
            let mut row = vec![0.0; vars.len()];
            if let Some(c) = col(s.total) {
                row[c] += 1.0;
            }
            for p in &s.parts {
                if let Some(c) = col(*p) {
                    row[c] -= 1.0;
                }
            }
            row
        })
        .filter(|r| r.iter().any(|x| *x != 0.0))
        .collect();
    let pivots = reduce(&mut m);
    let mut out = vec![false; hidden.len()];
    for (row, p) in pivots {
        if m[row]
            .iter()
            .enumerate()
            .all(|(c, x)| c == p || x.abs() < EPS)
        {
            out[vars[p]] = true;
        }
    }
    out
}

const EPS: f64 = 1e-9;

/// Reduced row echelon form in place; the (row, pivot column) pairs.
fn reduce(m: &mut [Vec<f64>]) -> Vec<(usize, usize)> {
    let cols = m.first().map_or(0, Vec::len);
    let mut pivots = Vec::new();
    let mut r = 0;
    for c in 0..cols {
        let Some(best) = (r..m.len())
            .filter(|i| m[*i][c].abs() > EPS)
            .max_by(|a, b| m[*a][c].abs().total_cmp(&m[*b][c].abs()))
        else {
            continue;
        };
        m.swap(r, best);
        let p = m[r][c];
        for x in m[r].iter_mut() {
            *x /= p;
        }
        let pivot_row = m[r].clone();
        for (i, row) in m.iter_mut().enumerate() {
            if i != r && row[c].abs() > EPS {
                let f = row[c];
                for (x, y) in row.iter_mut().zip(&pivot_row) {
                    *x -= f * y;
                }
            }
        }
        pivots.push((r, c));
        r += 1;
        if r == m.len() {
            break;
        }
    }
    pivots
}

/// A `rows × cols` table with its margins, laid out in one vector: the cells row by row,
/// then the row totals, the column totals and the grand total.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grid {
    /// Rows.
    pub rows: usize,
    /// Columns.
    pub cols: usize,
}

impl Grid {
    /// Index of a cell.
    pub fn cell(&self, r: usize, c: usize) -> usize {
        r * self.cols + c
    }
    /// Index of a row's total.
    pub fn row_total(&self, r: usize) -> usize {
        self.rows * self.cols + r
    }
    /// Index of a column's total.
    pub fn col_total(&self, c: usize) -> usize {
        self.rows * self.cols + self.rows + c
    }
    /// Index of the grand total.
    pub fn grand_total(&self) -> usize {
        self.rows * self.cols + self.rows + self.cols
    }
    /// How many figures.
    pub fn len(&self) -> usize {
        self.grand_total() + 1
    }
    /// Whether the table has no cells.
    pub fn is_empty(&self) -> bool {
        self.rows == 0 || self.cols == 0
    }

    /// The figures of `cells` (row by row) with their totals.
    pub fn values(&self, cells: &[Vec<u64>]) -> Vec<u64> {
        let mut v: Vec<u64> = cells.iter().flatten().copied().collect();
        v.resize(self.rows * self.cols, 0);
        for r in 0..self.rows {
            v.push((0..self.cols).map(|c| v[self.cell(r, c)]).sum());
        }
        for c in 0..self.cols {
            v.push((0..self.rows).map(|r| v[self.cell(r, c)]).sum());
        }
        v.push((0..self.rows).map(|r| v[self.row_total(r)]).sum());
        v
    }

    /// Its sums: each row, each column, and the grand total of both margins.
    pub fn sums(&self) -> Vec<Sum> {
        let mut out = Vec::new();
        for r in 0..self.rows {
            out.push(Sum {
                total: self.row_total(r),
                parts: (0..self.cols).map(|c| self.cell(r, c)).collect(),
            });
        }
        for c in 0..self.cols {
            out.push(Sum {
                total: self.col_total(c),
                parts: (0..self.rows).map(|r| self.cell(r, c)).collect(),
            });
        }
        out.push(Sum {
            total: self.grand_total(),
            parts: (0..self.rows).map(|r| self.row_total(r)).collect(),
        });
        out.push(Sum {
            total: self.grand_total(),
            parts: (0..self.cols).map(|c| self.col_total(c)).collect(),
        });
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lone_small_cell_takes_a_partner_in_its_row_and_column() {
        let g = Grid { rows: 2, cols: 2 };
        let v = g.values(&[vec![3, 10], vec![12, 20]]);
        let h = suppress(&v, &g.sums(), 5);
        // The 3, and enough cover that a rectangle of hidden cells remains.
        assert!(h[g.cell(0, 0)]);
        assert_eq!(recoverable(&h, &g.sums()), vec![false; g.len()]);
        assert!(h.iter().filter(|x| **x).count() >= 4);
        // Nothing to hide: nothing hidden.
        let v = g.values(&[vec![5, 10], vec![12, 0]]);
        assert_eq!(suppress(&v, &g.sums(), 5), vec![false; g.len()]);
    }
}
