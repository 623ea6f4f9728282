//! Writing query results in the format the user asked for.

use esql::QueryOutput;
use esql::render;
use std::fmt;
use std::io::{self, IsTerminal, Write};
use std::str::FromStr;

/// How `saker query` prints a result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum OutputFormat {
    /// A table that fits the terminal (long values are cut short with `…`).
    #[default]
    Table,
    /// Elastic's `_query` JSON response: `{"columns": […], "values": […]}`.
    Json,
    /// Elastic's `format=csv`.
    Csv,
    /// Elastic's `format=txt`.
    Txt,
}

impl OutputFormat {
    const ALL: [OutputFormat; 4] = [OutputFormat::Table, OutputFormat::Json, OutputFormat::Csv, OutputFormat::Txt];

    fn name(self) -> &'static str {
        match self {
            OutputFormat::Table => "table",
            OutputFormat::Json => "json",
            OutputFormat::Csv => "csv",
            OutputFormat::Txt => "txt",
        }
    }
}

impl fmt::Display for OutputFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for OutputFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<OutputFormat, String> {
        OutputFormat::ALL.into_iter().find(|f| f.name().eq_ignore_ascii_case(s)).ok_or_else(|| {
            let names: Vec<&str> = OutputFormat::ALL.iter().map(|f| f.name()).collect();
            format!("unknown format `{s}`, expected one of: {}", names.join(", "))
        })
    }
}

/// What writing a result found worth telling the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Written {
    /// Some table cell was cut short.
    pub truncated: bool,
}

/// Writes `output` to `out` in `format`; `width` bounds the table format.
///
/// # Errors
/// When `out` fails.
pub fn write_result(
    out: &mut dyn Write,
    format: OutputFormat,
    output: &QueryOutput,
    width: usize,
) -> io::Result<Written> {
    let mut written = Written::default();
    match format {
        OutputFormat::Json => {
            let body = render::to_json(output);
            serde_json::to_writer_pretty(&mut *out, &body)?;
            writeln!(out)?;
        }
        OutputFormat::Csv => out.write_all(render::to_csv(output).as_bytes())?,
        OutputFormat::Txt => out.write_all(render::to_txt(output).as_bytes())?,
        OutputFormat::Table => {
            let table = render::to_table(output, width);
            written.truncated = table.truncated;
            out.write_all(table.text.as_bytes())?;
            if !table.text.ends_with('\n') {
                out.write_all(b"\n")?;
            }
        }
    }
    out.flush()?;
    Ok(written)
}

/// The width tables should fit: the terminal's when stdout is one, else `$COLUMNS`, else no limit.
pub fn table_width() -> usize {
    let stdout = io::stdout();
    if stdout.is_terminal()
        && let Some((terminal_size::Width(w), _)) = terminal_size::terminal_size_of(&stdout)
    {
        return usize::from(w);
    }
    std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()).unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_parse_and_display() {
        for format in OutputFormat::ALL {
            assert_eq!(format.to_string().parse::<OutputFormat>(), Ok(format));
        }
        assert_eq!("JSON".parse::<OutputFormat>(), Ok(OutputFormat::Json));
        assert_eq!(
            "yaml".parse::<OutputFormat>(),
            Err("unknown format `yaml`, expected one of: table, json, csv, txt".to_string())
        );
    }
}
