//! Every table on the review pages is a [`Table`]: shown as HTML, exported as CSV (Danish
//! Excel: semicolons, decimal comma, UTF-8 with BOM) or XLSX with the same content.

use maud::{Markup, html};
use serde::Deserialize;

use super::fmt;

/// `?eksport=csv|xlsx&tabel=<slug>` on any page with tables.
#[derive(Debug, Default, Deserialize)]
pub struct ExportQuery {
    /// csv or xlsx.
    pub eksport: Option<String>,
    /// Which table.
    pub tabel: Option<String>,
}

/// One cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Text.
    Text(String),
    /// A whole number.
    Int(i64),
    /// A decimal number with this many decimals.
    Dec(f64, usize),
    /// A count hidden on the board: below the tenant's threshold, or hidden with it so that
    /// it cannot be worked out from the totals (`nabo_core::disclosure`).
    Suppressed,
    /// Text linking to a page (exports carry the text only).
    Link(String, String),
    /// Nothing.
    Empty,
}

impl Cell {
    /// Text cell.
    pub fn text(s: impl Into<String>) -> Self {
        Cell::Text(s.into())
    }

    fn shown(&self) -> String {
        match self {
            Cell::Text(s) | Cell::Link(s, _) => s.clone(),
            Cell::Int(n) => fmt::num(*n),
            Cell::Dec(x, d) => fmt::dec(*x, *d),
            Cell::Suppressed => SUPPRESSED.into(),
            Cell::Empty => String::new(),
        }
    }

    fn numeric(&self) -> bool {
        matches!(self, Cell::Int(_) | Cell::Dec(..) | Cell::Suppressed)
    }
}

/// How a hidden count reads.
pub const SUPPRESSED: &str = "skjult";

/// A table with a stable slug (used in export links and file names).
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Slug: `[a-z0-9-]+`.
    pub slug: &'static str,
    /// Caption.
    pub title: String,
    /// Column headings.
    pub head: Vec<String>,
    /// Rows.
    pub rows: Vec<Vec<Cell>>,
    /// Shown under the table.
    pub note: Option<String>,
}

impl Table {
    /// An empty table.
    pub fn new(slug: &'static str, title: impl Into<String>, head: &[&str]) -> Self {
        Table {
            slug,
            title: title.into(),
            head: head.iter().map(|h| (*h).to_owned()).collect(),
            rows: Vec::new(),
            note: None,
        }
    }

    /// Adds a row.
    pub fn row(&mut self, cells: Vec<Cell>) {
        self.rows.push(cells);
    }

    /// The HTML table with its export links; `page` is the page's path and query (without
    /// any export parameters).
    pub fn html(&self, page: &str) -> Markup {
        let sep = if page.contains('?') { '&' } else { '?' };
        html! {
            section class="tabel" id=(self.slug) {
                div class="tabel-top" {
                    h2 { (self.title) }
                    span class="eksport" {
                        "Eksportér: "
                        a href={(page) (sep) "eksport=csv&tabel=" (self.slug)} download { "CSV" }
                        " · "
                        a href={(page) (sep) "eksport=xlsx&tabel=" (self.slug)} download { "Excel" }
                    }
                }
                (self.grid())
                @if let Some(n) = &self.note { p class="note" { (n) } }
            }
        }
    }

    /// The table and its note alone (the board pack prints it without export links).
    pub fn plain(&self) -> Markup {
        html! {
            (self.grid())
            @if let Some(n) = &self.note { p class="note" { (n) } }
        }
    }

    fn grid(&self) -> Markup {
        html! {
        div class="rul" {
            table {
                thead { tr { @for (i, h) in self.head.iter().enumerate() {
                    th scope="col" class=[(i > 0 && self.numeric_column(i)).then_some("tal")] { (h) }
                } } }
                tbody {
                    @if self.rows.is_empty() {
                        tr { td colspan=(self.head.len().max(1)) class="tom" { "Ingen data i perioden." } }
                    }
                    @for row in &self.rows {
                        tr {
                            @for (i, c) in row.iter().enumerate() {
                                @if i == 0 {
                                    th scope="row" { (cell_html(c)) }
                                } @else {
                                    td class=[c.numeric().then_some("tal")] { (cell_html(c)) }
                                }
                            }
                        }
                    }
                }
            }
        }
        }
    }

    fn numeric_column(&self, i: usize) -> bool {
        self.rows
            .iter()
            .any(|r| r.get(i).is_some_and(Cell::numeric))
    }

    /// CSV for Danish Excel.
    pub fn csv(&self) -> Vec<u8> {
        let mut out = "\u{feff}".as_bytes().to_vec();
        {
            let mut w = csv::WriterBuilder::new()
                .delimiter(b';')
                .from_writer(&mut out);
            // Writing to a Vec cannot fail; a failure would only truncate the export.
            let _ = w.write_record(&self.head);
            for r in &self.rows {
                let _ = w.write_record(r.iter().map(|c| match c {
                    Cell::Int(n) => n.to_string(),
                    Cell::Dec(x, d) => format!("{:.*}", d, x).replace('.', ","),
                    other => other.shown(),
                }));
            }
            let _ = w.flush();
        }
        out
    }

    /// An XLSX workbook with the table on one sheet (numbers as numbers).
    pub fn xlsx(&self) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
        use rust_xlsxwriter::{Format, Workbook};
        let mut wb = Workbook::new();
        let bold = Format::new().set_bold();
        let sheet = wb.add_worksheet();
        let name: String = self
            .title
            .chars()
            .filter(|c| !"[]:*?/\\".contains(*c))
            .take(31)
            .collect();
        sheet.set_name(if name.trim().is_empty() {
            "Tabel"
        } else {
            &name
        })?;
        for (c, h) in self.head.iter().enumerate() {
            sheet.write_string_with_format(0, c as u16, h, &bold)?;
        }
        for (r, row) in self.rows.iter().enumerate() {
            let r = r as u32 + 1;
            for (c, cell) in row.iter().enumerate() {
                let c = c as u16;
                match cell {
                    Cell::Int(n) => {
                        sheet.write_number(r, c, *n as f64)?;
                    }
                    Cell::Dec(x, _) => {
                        sheet.write_number(r, c, *x)?;
                    }
                    Cell::Empty => {}
                    other => {
                        sheet.write_string(r, c, other.shown())?;
                    }
                }
            }
        }
        sheet.autofit();
        wb.save_to_buffer()
    }
}

fn cell_html(c: &Cell) -> Markup {
    match c {
        Cell::Link(text, href) => html! { a href=(href) { (text) } },
        Cell::Suppressed => {
            html! { abbr title="Skjult, så ingen enkeltpersoner kan genkendes – heller ikke ved at regne baglæns fra totalerne" { (SUPPRESSED) } }
        }
        other => html! { (other.shown()) },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Table {
        let mut t = Table::new("test", "Fremmøde; uge", &["Aldersgruppe", "Antal", "Timer"]);
        t.row(vec![
            Cell::text("7–9 år"),
            Cell::Int(1234),
            Cell::Dec(12.5, 1),
        ]);
        t.row(vec![
            Cell::text("10–12 \"år\""),
            Cell::Suppressed,
            Cell::Empty,
        ]);
        t
    }

    #[test]
    fn csv_is_for_danish_excel() {
        let csv = String::from_utf8(sample().csv()).unwrap_or_default();
        assert!(csv.starts_with('\u{feff}'));
        let lines: Vec<&str> = csv.trim_start_matches('\u{feff}').lines().collect();
        assert_eq!(lines[0], "Aldersgruppe;Antal;Timer");
        assert_eq!(lines[1], "7–9 år;1234;12,5");
        assert_eq!(lines[2], "\"10–12 \"\"år\"\"\";skjult;");
    }

    #[test]
    fn xlsx_is_a_zip_workbook() {
        let bytes = sample().xlsx().unwrap_or_default();
        assert!(bytes.starts_with(b"PK"), "an xlsx file is a zip archive");
        assert!(bytes.len() > 1000);
    }

    #[test]
    fn html_links_exports_and_marks_suppressed() {
        let h = sample().html("/oversigt?fra=2026-01-01").into_string();
        assert!(h.contains("/oversigt?fra=2026-01-01&amp;eksport=csv&amp;tabel=test"));
        assert!(h.contains("1.234"));
        assert!(h.contains(">skjult</abbr>"));
    }
}
