//! Date formats as Elasticsearch's `DateFormatter.forPattern` takes them: Java
//! `DateTimeFormatter` patterns (`yyyy-MM-dd'T'HH:mm:ss.SSSZ`, `MMM d, yyyy`, `[...]` optional
//! sections), Elasticsearch's named formats (`strict_date_optional_time`, `epoch_millis`, ...) and
//! `||`-separated alternatives. A format is compiled once, then prints and parses UTC dates with
//! English (root locale) texts and ISO weeks.

use super::{DAYS, DateTime, MONTHS, NANOS_PER_DAY, days_from_civil, is_leap, month_length};

/// A compiled date format.
#[derive(Debug, Clone)]
pub struct Formatter {
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    /// A Java pattern.
    Pattern(Vec<Item>),
    /// `strict_date_optional_time` and friends: ISO 8601, printed with milliseconds.
    Iso,
    /// `strict_date_optional_time_nanos`: ISO 8601, printed with 3 to 9 fraction digits.
    IsoNanos,
    /// Milliseconds since the epoch.
    EpochMillis,
    /// Seconds since the epoch.
    EpochSecond,
    /// `a||b`: prints with the first, parses with the first that accepts the text.
    Alternatives(Vec<Formatter>),
}

#[derive(Debug, Clone, PartialEq)]
enum Item {
    Literal(String),
    Field(Field, usize),
    Optional(Vec<Item>),
}

/// The pattern letters, by the value they stand for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Era,                // G
    YearOfEra,          // y
    Year,               // u
    WeekYear,           // Y
    Month,              // M, L
    Quarter,            // Q, q
    WeekOfYear,         // w
    WeekOfMonth,        // W
    AlignedWeekOfMonth, // F
    DayOfYear,          // D
    DayOfMonth,         // d
    ModifiedJulianDay,  // g
    DayOfWeekText,      // E
    LocalDayOfWeek,     // e, c
    AmPm,               // a
    ClockHourOfAmPm,    // h
    HourOfAmPm,         // K
    ClockHourOfDay,     // k
    HourOfDay,          // H
    Minute,             // m
    Second,             // s
    Fraction,           // S
    MilliOfDay,         // A
    NanoOfSecond,       // n
    NanoOfDay,          // N
    ZoneId,             // V
    ZoneText,           // z, v
    LocalizedOffset,    // O
    OffsetX,            // X
    OffsetLowerX,       // x
    OffsetZ,            // Z
}

impl Formatter {
    /// Compiles a format; the error is Elastic's message (`Invalid format: [p]: ...`).
    pub fn new(format: &str) -> Result<Formatter, String> {
        if format.contains("||") {
            let parts = format
                .split("||")
                .map(|p| Formatter::single(p).map_err(|e| invalid(format, &e)))
                .collect::<Result<Vec<_>, _>>()?;
            return Ok(Formatter { kind: Kind::Alternatives(parts) });
        }
        Formatter::single(format).map_err(|e| invalid(format, &e))
    }

    /// The format `DATE_FORMAT` and `DATE_PARSE` use when given none.
    pub fn default_format() -> Formatter {
        Formatter { kind: Kind::Iso }
    }

    fn single(format: &str) -> Result<Formatter, String> {
        let name = format.strip_prefix("strict_").unwrap_or(format);
        let java = match name {
            "date_optional_time" | "iso8601" => return Ok(Formatter { kind: Kind::Iso }),
            "date_optional_time_nanos" => return Ok(Formatter { kind: Kind::IsoNanos }),
            "epoch_millis" => return Ok(Formatter { kind: Kind::EpochMillis }),
            "epoch_second" => return Ok(Formatter { kind: Kind::EpochSecond }),
            "basic_date" => "yyyyMMdd",
            "basic_date_time" => "yyyyMMdd'T'HHmmss.SSSXX",
            "basic_date_time_no_millis" => "yyyyMMdd'T'HHmmssXX",
            "basic_ordinal_date" => "yyyyDDD",
            "basic_ordinal_date_time" => "yyyyDDD'T'HHmmss.SSSXX",
            "basic_ordinal_date_time_no_millis" => "yyyyDDD'T'HHmmssXX",
            "basic_time" => "HHmmss.SSSXX",
            "basic_time_no_millis" => "HHmmssXX",
            "basic_t_time" => "'T'HHmmss.SSSXX",
            "basic_t_time_no_millis" => "'T'HHmmssXX",
            "basic_week_date" => "YYYY'W'wwe",
            "basic_week_date_time" => "YYYY'W'wwe'T'HHmmss.SSSXX",
            "basic_week_date_time_no_millis" => "YYYY'W'wwe'T'HHmmssXX",
            "date" => "yyyy-MM-dd",
            "date_hour" => "yyyy-MM-dd'T'HH",
            "date_hour_minute" => "yyyy-MM-dd'T'HH:mm",
            "date_hour_minute_second" => "yyyy-MM-dd'T'HH:mm:ss",
            "date_hour_minute_second_fraction" | "date_hour_minute_second_millis" => "yyyy-MM-dd'T'HH:mm:ss.SSS",
            "date_time" => "yyyy-MM-dd'T'HH:mm:ss.SSSXXX",
            "date_time_no_millis" => "yyyy-MM-dd'T'HH:mm:ssXXX",
            "hour" => "HH",
            "hour_minute" => "HH:mm",
            "hour_minute_second" => "HH:mm:ss",
            "hour_minute_second_fraction" | "hour_minute_second_millis" => "HH:mm:ss.SSS",
            "ordinal_date" => "yyyy-DDD",
            "ordinal_date_time" => "yyyy-DDD'T'HH:mm:ss.SSSXXX",
            "ordinal_date_time_no_millis" => "yyyy-DDD'T'HH:mm:ssXXX",
            "time" => "HH:mm:ss.SSSXXX",
            "time_no_millis" => "HH:mm:ssXXX",
            "t_time" => "'T'HH:mm:ss.SSSXXX",
            "t_time_no_millis" => "'T'HH:mm:ssXXX",
            "week_date" => "YYYY-'W'ww-e",
            "week_date_time" => "YYYY-'W'ww-e'T'HH:mm:ss.SSSXXX",
            "week_date_time_no_millis" => "YYYY-'W'ww-e'T'HH:mm:ssXXX",
            "weekyear" => "YYYY",
            "weekyear_week" => "YYYY-'W'ww",
            "weekyear_week_day" => "YYYY-'W'ww-e",
            "year" => "yyyy",
            "year_month" => "yyyy-MM",
            "year_month_day" => "yyyy-MM-dd",
            _ => format,
        };
        let items = compile(java)?;
        Ok(Formatter { kind: Kind::Pattern(items) })
    }

    /// Prints a UTC date-time.
    pub fn format(&self, t: &DateTime) -> String {
        match &self.kind {
            Kind::Pattern(items) => {
                let mut out = String::new();
                print_items(items, t, &mut out);
                out
            }
            Kind::Iso | Kind::IsoNanos => {
                let mut out = String::new();
                print_items(&iso_items(), t, &mut out);
                if matches!(self.kind, Kind::IsoNanos) && t.nano() % 1_000_000 != 0 {
                    let digits = format!("{:09}", t.nano());
                    let digits = digits.trim_end_matches('0');
                    // Replace the three millisecond digits before the `Z`.
                    out.truncate(out.len() - 4);
                    out.push_str(digits);
                    out.push('Z');
                }
                out
            }
            Kind::EpochMillis => {
                let nanos = i128::from(t.epoch_day) * i128::from(NANOS_PER_DAY) + i128::from(t.nano_of_day);
                let ms = nanos.div_euclid(1_000_000);
                let rest = nanos.rem_euclid(1_000_000);
                if rest == 0 {
                    ms.to_string()
                } else {
                    let frac = format!("{rest:06}");
                    format!("{ms}.{}", frac.trim_end_matches('0'))
                }
            }
            Kind::EpochSecond => {
                let nanos = i128::from(t.epoch_day) * i128::from(NANOS_PER_DAY) + i128::from(t.nano_of_day);
                let s = nanos.div_euclid(1_000_000_000);
                let rest = nanos.rem_euclid(1_000_000_000);
                if rest == 0 {
                    s.to_string()
                } else {
                    let frac = format!("{rest:09}");
                    format!("{s}.{}", frac.trim_end_matches('0'))
                }
            }
            Kind::Alternatives(f) => f.first().map(|f| f.format(t)).unwrap_or_default(),
        }
    }

    /// Parses a date to epoch nanoseconds (`None` when the text does not match the format or
    /// is not a valid date).
    pub fn parse_nanos(&self, s: &str) -> Option<i128> {
        match &self.kind {
            Kind::Pattern(items) => {
                let mut p = Parsed::default();
                let mut pos = 0;
                if !parse_items(items, s, &mut pos, &mut p) || pos != s.len() {
                    return None;
                }
                p.resolve()
            }
            Kind::Iso | Kind::IsoNanos => crate::convert::parse_date_nanos(s).map(i128::from),
            Kind::EpochMillis => parse_epoch(s, 1_000_000),
            Kind::EpochSecond => parse_epoch(s, 1_000_000_000),
            Kind::Alternatives(f) => f.iter().find_map(|f| f.parse_nanos(s)),
        }
    }

    /// Parses a date to epoch milliseconds.
    pub fn parse_millis(&self, s: &str) -> Option<i64> {
        i64::try_from(self.parse_nanos(s)?.div_euclid(1_000_000)).ok()
    }
}

fn invalid(format: &str, e: &str) -> String {
    format!("Invalid format: [{format}]: {e}")
}

/// `uuuu-MM-dd'T'HH:mm:ss.SSS'Z'`, how Elastic prints a date by default.
fn iso_items() -> Vec<Item> {
    vec![
        Item::Field(Field::Year, 4),
        Item::Literal("-".into()),
        Item::Field(Field::Month, 2),
        Item::Literal("-".into()),
        Item::Field(Field::DayOfMonth, 2),
        Item::Literal("T".into()),
        Item::Field(Field::HourOfDay, 2),
        Item::Literal(":".into()),
        Item::Field(Field::Minute, 2),
        Item::Literal(":".into()),
        Item::Field(Field::Second, 2),
        Item::Literal(".".into()),
        Item::Field(Field::Fraction, 3),
        Item::Literal("Z".into()),
    ]
}

fn parse_epoch(s: &str, unit: i128) -> Option<i128> {
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, f),
        None => (s, ""),
    };
    let negative = int.starts_with('-');
    let digits = int.strip_prefix('-').unwrap_or(int);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || digits.len() > 20 {
        return None;
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) || (s.contains('.') && frac.is_empty()) {
        return None;
    }
    let whole: i128 = digits.parse().ok()?;
    let scale = unit.to_string().len() - 1;
    let frac_digits: String = frac.chars().chain(std::iter::repeat('0')).take(scale).collect();
    let part: i128 = if scale == 0 { 0 } else { frac_digits.parse().ok()? };
    let v = whole * unit + part;
    Some(if negative { -v } else { v })
}

// ---- compiling -------------------------------------------------------------------------------

fn compile(pattern: &str) -> Result<Vec<Item>, String> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut stack: Vec<Vec<Item>> = vec![Vec::new()];
    let mut i = 0;
    let push = |stack: &mut Vec<Vec<Item>>, item: Item| {
        let top = stack.last_mut().expect("invariant: the outermost level is never popped");
        // Merge adjacent literals.
        if let (Item::Literal(s), Some(Item::Literal(prev))) = (&item, top.last_mut()) {
            prev.push_str(s);
            return;
        }
        top.push(item);
    };
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_alphabetic() {
            let mut n = 1;
            while i + n < chars.len() && chars[i + n] == c {
                n += 1;
            }
            let field = field_for(c, n)?;
            push(&mut stack, Item::Field(field, n));
            i += n;
            continue;
        }
        match c {
            '\'' => {
                let mut j = i + 1;
                let mut text = String::new();
                loop {
                    if j >= chars.len() {
                        return Err(format!("Pattern ends with an incomplete string literal: {pattern}"));
                    }
                    if chars[j] == '\'' {
                        if j + 1 < chars.len() && chars[j + 1] == '\'' {
                            text.push('\'');
                            j += 2;
                            continue;
                        }
                        break;
                    }
                    text.push(chars[j]);
                    j += 1;
                }
                if j == i + 1 {
                    text.push('\'');
                }
                push(&mut stack, Item::Literal(text));
                i = j + 1;
            }
            '[' => {
                stack.push(Vec::new());
                i += 1;
            }
            ']' => {
                if stack.len() == 1 {
                    return Err("Pattern invalid as it contains ] without previous [".into());
                }
                let inner = stack.pop().expect("invariant: checked above");
                push(&mut stack, Item::Optional(inner));
                i += 1;
            }
            '{' | '}' | '#' => return Err(format!("Pattern includes reserved character: '{c}'")),
            _ => {
                push(&mut stack, Item::Literal(c.to_string()));
                i += 1;
            }
        }
    }
    // Unclosed optional sections end with the pattern.
    while stack.len() > 1 {
        let inner = stack.pop().expect("invariant: checked by the loop");
        push(&mut stack, Item::Optional(inner));
    }
    Ok(stack.pop().unwrap_or_default())
}

fn field_for(c: char, n: usize) -> Result<Field, String> {
    let too_many = || format!("Too many pattern letters: {c}");
    let max = |m: usize, f: Field| if n <= m { Ok(f) } else { Err(too_many()) };
    match c {
        'G' => max(5, Field::Era),
        'y' => max(19, Field::YearOfEra),
        'u' => max(19, Field::Year),
        'Y' => max(19, Field::WeekYear),
        'M' | 'L' => max(5, Field::Month),
        'Q' | 'q' => max(5, Field::Quarter),
        'w' => max(2, Field::WeekOfYear),
        'W' => max(1, Field::WeekOfMonth),
        'F' => max(1, Field::AlignedWeekOfMonth),
        'D' => max(3, Field::DayOfYear),
        'd' => max(2, Field::DayOfMonth),
        'g' => max(19, Field::ModifiedJulianDay),
        'E' => max(5, Field::DayOfWeekText),
        'e' | 'c' => max(5, Field::LocalDayOfWeek),
        'a' => max(1, Field::AmPm),
        'h' => max(2, Field::ClockHourOfAmPm),
        'K' => max(2, Field::HourOfAmPm),
        'k' => max(2, Field::ClockHourOfDay),
        'H' => max(2, Field::HourOfDay),
        'm' => max(2, Field::Minute),
        's' => max(2, Field::Second),
        'S' if n > 9 => Err(format!("Maximum width must be from 1 to 9 inclusive but was {n}")),
        'S' => Ok(Field::Fraction),
        'A' => max(19, Field::MilliOfDay),
        'n' => max(19, Field::NanoOfSecond),
        'N' => max(19, Field::NanoOfDay),
        'V' if n != 2 => Err(format!("Pattern letter count must be 2: {c}")),
        'V' => Ok(Field::ZoneId),
        'z' => max(4, Field::ZoneText),
        'v' if n == 1 || n == 4 => Ok(Field::ZoneText),
        'v' => Err(format!("Wrong number of pattern letters: {c}")),
        'O' if n == 1 || n == 4 => Ok(Field::LocalizedOffset),
        'O' => Err(format!("Pattern letter count must be 1 or 4: {c}")),
        'X' => max(5, Field::OffsetX),
        'x' => max(5, Field::OffsetLowerX),
        'Z' => max(5, Field::OffsetZ),
        _ => Err(format!("Unknown pattern letter: {c}")),
    }
}

// ---- printing --------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq)]
enum Sign {
    /// `-` for negative values only.
    Normal,
    /// `+` when the value is wider than the pad, `-` when negative.
    ExceedsPad,
    /// Never a sign.
    NotNegative,
}

fn push_number(out: &mut String, v: i64, min_width: usize, sign: Sign) {
    let digits = v.unsigned_abs().to_string();
    if v < 0 && sign != Sign::NotNegative {
        out.push('-');
    } else if sign == Sign::ExceedsPad && digits.len() > min_width {
        out.push('+');
    }
    for _ in digits.len()..min_width {
        out.push('0');
    }
    out.push_str(&digits);
}

/// Prints a numeric field the way the pattern letter count asks (a plain value for one
/// letter, zero-padded to the count otherwise).
fn push_value(out: &mut String, v: i64, n: usize) {
    push_number(out, v, n, if n == 1 { Sign::Normal } else { Sign::NotNegative });
}

fn push_year(out: &mut String, v: i64, n: usize) {
    match n {
        2 => push_number(out, (v % 100).abs(), 2, Sign::NotNegative),
        1 | 3 => push_number(out, v, n, Sign::Normal),
        _ => push_number(out, v, n, Sign::ExceedsPad),
    }
}

fn push_text(out: &mut String, full: &str, n: usize) {
    match n {
        4 => out.push_str(full),
        5 => out.extend(full.chars().take(1)),
        _ => out.extend(full.chars().take(3)),
    }
}

fn print_items(items: &[Item], t: &DateTime, out: &mut String) {
    for item in items {
        match item {
            Item::Literal(s) => out.push_str(s),
            Item::Optional(inner) => print_items(inner, t, out),
            Item::Field(f, n) => print_field(*f, *n, t, out),
        }
    }
}

fn print_field(f: Field, n: usize, t: &DateTime, out: &mut String) {
    let hour = t.hour();
    match f {
        Field::Era => {
            let ad = t.year >= 1;
            match n {
                4 => out.push_str(if ad { "Anno Domini" } else { "Before Christ" }),
                5 => out.push_str(if ad { "A" } else { "B" }),
                _ => out.push_str(if ad { "AD" } else { "BC" }),
            }
        }
        Field::YearOfEra => push_year(out, if t.year >= 1 { t.year } else { 1 - t.year }, n),
        Field::Year => push_year(out, t.year, n),
        Field::WeekYear => push_year(out, t.iso_week().0, n),
        Field::Month => match n {
            1 | 2 => push_value(out, i64::from(t.month), n),
            _ => push_text(out, MONTHS[(t.month - 1) as usize], n),
        },
        Field::Quarter => {
            let q = i64::from((t.month - 1) / 3 + 1);
            match n {
                1 | 2 => push_value(out, q, n),
                3 => out.push_str(&format!("Q{q}")),
                4 => out.push_str(["1st quarter", "2nd quarter", "3rd quarter", "4th quarter"][(q - 1) as usize]),
                _ => push_value(out, q, 1),
            }
        }
        Field::WeekOfYear => push_value(out, t.iso_week().1, n),
        Field::WeekOfMonth => push_value(out, week_of_month(t), n),
        Field::AlignedWeekOfMonth => push_value(out, (i64::from(t.day) - 1) / 7 + 1, n),
        Field::DayOfYear => {
            let sign = if n == 1 { Sign::Normal } else { Sign::NotNegative };
            push_number(out, t.day_of_year(), n, sign)
        }
        Field::DayOfMonth => push_value(out, i64::from(t.day), n),
        Field::ModifiedJulianDay => push_value(out, t.epoch_day + 40_587, n),
        Field::DayOfWeekText => push_text(out, DAYS[(t.day_of_week() - 1) as usize], n),
        Field::LocalDayOfWeek => match n {
            1 | 2 => push_value(out, t.day_of_week(), n),
            _ => push_text(out, DAYS[(t.day_of_week() - 1) as usize], n),
        },
        Field::AmPm => out.push_str(if hour < 12 { "AM" } else { "PM" }),
        Field::ClockHourOfAmPm => push_value(out, if hour % 12 == 0 { 12 } else { hour % 12 }, n),
        Field::HourOfAmPm => push_value(out, hour % 12, n),
        Field::ClockHourOfDay => push_value(out, if hour == 0 { 24 } else { hour }, n),
        Field::HourOfDay => push_value(out, hour, n),
        Field::Minute => push_value(out, t.minute(), n),
        Field::Second => push_value(out, t.second(), n),
        Field::Fraction => {
            let digits = format!("{:09}", t.nano());
            out.push_str(&digits[..n.min(9)]);
        }
        Field::MilliOfDay => push_value(out, t.nano_of_day / 1_000_000, n),
        Field::NanoOfSecond => push_value(out, t.nano(), n),
        Field::NanoOfDay => push_value(out, t.nano_of_day, n),
        // The zone is always UTC: `ZoneOffset.UTC`, whose id is `Z`.
        Field::ZoneId | Field::ZoneText => out.push('Z'),
        Field::LocalizedOffset => out.push_str("GMT"),
        Field::OffsetX => out.push('Z'),
        Field::OffsetLowerX => out.push_str(match n {
            1 => "+00",
            2 | 4 => "+0000",
            _ => "+00:00",
        }),
        Field::OffsetZ => out.push_str(match n {
            4 => "GMT",
            5 => "Z",
            _ => "+0000",
        }),
    }
}

/// ISO week of the month (weeks start on Monday; a first week needs at least 4 days).
fn week_of_month(t: &DateTime) -> i64 {
    let dom = i64::from(t.day);
    let week_start = (dom - t.day_of_week()).rem_euclid(7);
    let offset = if week_start + 1 > 4 { 7 - week_start } else { -week_start };
    (7 + offset + (dom - 1)) / 7
}

// ---- parsing ---------------------------------------------------------------------------------

/// Values read from the text, before they are resolved to an instant.
#[derive(Debug, Clone, Default)]
struct Parsed {
    era: Option<i64>,
    year_of_era: Option<i64>,
    year: Option<i64>,
    week_year: Option<i64>,
    month: Option<i64>,
    quarter: Option<i64>,
    week_of_year: Option<i64>,
    day_of_year: Option<i64>,
    day_of_month: Option<i64>,
    epoch_day: Option<i64>,
    day_of_week: Option<i64>,
    ampm: Option<i64>,
    clock_hour_of_ampm: Option<i64>,
    hour_of_ampm: Option<i64>,
    clock_hour_of_day: Option<i64>,
    hour_of_day: Option<i64>,
    minute: Option<i64>,
    second: Option<i64>,
    nano: Option<i64>,
    milli_of_day: Option<i64>,
    nano_of_day: Option<i64>,
    offset_seconds: Option<i64>,
}

fn set(slot: &mut Option<i64>, v: i64) -> bool {
    match slot {
        Some(old) => *old == v,
        None => {
            *slot = Some(v);
            true
        }
    }
}

impl Parsed {
    fn slot(&mut self, f: Field) -> Option<&mut Option<i64>> {
        Some(match f {
            Field::Era => &mut self.era,
            Field::YearOfEra => &mut self.year_of_era,
            Field::Year => &mut self.year,
            Field::WeekYear => &mut self.week_year,
            Field::Month => &mut self.month,
            Field::Quarter => &mut self.quarter,
            Field::WeekOfYear => &mut self.week_of_year,
            Field::DayOfYear => &mut self.day_of_year,
            Field::DayOfMonth => &mut self.day_of_month,
            Field::ModifiedJulianDay => &mut self.epoch_day,
            Field::DayOfWeekText | Field::LocalDayOfWeek => &mut self.day_of_week,
            Field::AmPm => &mut self.ampm,
            Field::ClockHourOfAmPm => &mut self.clock_hour_of_ampm,
            Field::HourOfAmPm => &mut self.hour_of_ampm,
            Field::ClockHourOfDay => &mut self.clock_hour_of_day,
            Field::HourOfDay => &mut self.hour_of_day,
            Field::Minute => &mut self.minute,
            Field::Second => &mut self.second,
            Field::Fraction | Field::NanoOfSecond => &mut self.nano,
            Field::MilliOfDay => &mut self.milli_of_day,
            Field::NanoOfDay => &mut self.nano_of_day,
            Field::ZoneId
            | Field::ZoneText
            | Field::LocalizedOffset
            | Field::OffsetX
            | Field::OffsetLowerX
            | Field::OffsetZ => &mut self.offset_seconds,
            Field::WeekOfMonth | Field::AlignedWeekOfMonth => return None,
        })
    }

    /// Resolves the values to epoch nanoseconds, checking ranges and consistency strictly.
    fn resolve(&self) -> Option<i128> {
        let in_range = |v: Option<i64>, lo: i64, hi: i64| v.is_none_or(|x| (lo..=hi).contains(&x));
        if !in_range(self.month, 1, 12)
            || !in_range(self.day_of_month, 1, 31)
            || !in_range(self.day_of_year, 1, 366)
            || !in_range(self.day_of_week, 1, 7)
            || !in_range(self.week_of_year, 1, 53)
            || !in_range(self.quarter, 1, 4)
            || !in_range(self.ampm, 0, 1)
            || !in_range(self.clock_hour_of_ampm, 1, 12)
            || !in_range(self.hour_of_ampm, 0, 11)
            || !in_range(self.clock_hour_of_day, 1, 24)
            || !in_range(self.hour_of_day, 0, 23)
            || !in_range(self.minute, 0, 59)
            || !in_range(self.second, 0, 59)
            || !in_range(self.nano, 0, 999_999_999)
            || !in_range(self.milli_of_day, 0, 86_399_999)
            || !in_range(self.nano_of_day, 0, NANOS_PER_DAY - 1)
            || !in_range(self.year, -999_999_999, 999_999_999)
            || !in_range(self.year_of_era, 1, 999_999_999)
            || !in_range(self.week_year, -999_999_999, 999_999_999)
        {
            return None;
        }
        // The year.
        let mut year = self.year;
        if let Some(yoe) = self.year_of_era {
            let y = if self.era == Some(0) { 1 - yoe } else { yoe };
            if year.is_some_and(|x| x != y) {
                return None;
            }
            year = Some(y);
        }
        // The date.
        let day = if let Some(d) = self.epoch_day {
            d
        } else if let (Some(wy), Some(w)) = (self.week_year, self.week_of_year) {
            let jan4 = days_from_civil(wy, 1, 4);
            let monday1 = jan4 - ((jan4 + 3).rem_euclid(7));
            let weeks = {
                let next_jan4 = days_from_civil(wy + 1, 1, 4);
                (next_jan4 - ((next_jan4 + 3).rem_euclid(7)) - monday1) / 7
            };
            if w > weeks {
                return None;
            }
            monday1 + (w - 1) * 7 + self.day_of_week.unwrap_or(1) - 1
        } else {
            let y = year.unwrap_or(1970);
            if let Some(doy) = self.day_of_year {
                if doy == 366 && !is_leap(y) {
                    return None;
                }
                let d = days_from_civil(y, 1, 1) + doy - 1;
                let t = DateTime::from_parts(d, 0);
                if self.month.is_some_and(|m| m != i64::from(t.month))
                    || self.day_of_month.is_some_and(|x| x != i64::from(t.day))
                {
                    return None;
                }
                d
            } else {
                let m = self.month.unwrap_or(1) as u32;
                let dom = self.day_of_month.unwrap_or(1) as u32;
                if dom > month_length(y, m) {
                    return None;
                }
                days_from_civil(y, m, dom)
            }
        };
        let date = DateTime::from_parts(day, 0);
        if self.day_of_week.is_some_and(|w| w != date.day_of_week())
            || self.quarter.is_some_and(|q| q != i64::from((date.month - 1) / 3 + 1))
        {
            return None;
        }
        // The time of day.
        let hour = if let Some(h) = self.hour_of_day {
            Some(h)
        } else if let Some(k) = self.clock_hour_of_day {
            Some(k % 24)
        } else if let (Some(ap), Some(h)) = (self.ampm, self.hour_of_ampm.or(self.clock_hour_of_ampm.map(|h| h % 12))) {
            Some(h + 12 * ap)
        } else {
            None
        };
        if let (Some(h), Some(ap)) = (hour, self.ampm)
            && h / 12 != ap
        {
            return None;
        }
        if let (Some(h), Some(k)) = (self.hour_of_day, self.clock_hour_of_day)
            && h != k % 24
        {
            return None;
        }
        let mut nano_of_day = match hour {
            Some(h) => {
                h * 3_600_000_000_000
                    + self.minute.unwrap_or(0) * 60_000_000_000
                    + self.second.unwrap_or(0) * 1_000_000_000
                    + self.nano.unwrap_or(0)
            }
            None => 0,
        };
        if hour.is_none() {
            if let Some(n) = self.nano_of_day {
                nano_of_day = n;
            } else if let Some(ms) = self.milli_of_day {
                nano_of_day = ms * 1_000_000;
            }
        }
        let offset = i128::from(self.offset_seconds.unwrap_or(0)) * 1_000_000_000;
        Some(i128::from(day) * i128::from(NANOS_PER_DAY) + i128::from(nano_of_day) - offset)
    }
}

/// The widths a numeric field reads: (minimum, maximum, sign handling). `None` for fields that
/// are not read as numbers at this letter count.
fn numeric_spec(f: Field, n: usize) -> Option<(usize, usize, Sign)> {
    match f {
        Field::YearOfEra | Field::Year | Field::WeekYear => Some(match n {
            2 => (2, 2, Sign::NotNegative),
            1 | 3 => (n, 19, Sign::Normal),
            _ => (n, 19, Sign::ExceedsPad),
        }),
        Field::Month | Field::Quarter | Field::LocalDayOfWeek if n >= 3 => None,
        Field::Month
        | Field::Quarter
        | Field::LocalDayOfWeek
        | Field::WeekOfYear
        | Field::DayOfMonth
        | Field::ClockHourOfAmPm
        | Field::HourOfAmPm
        | Field::ClockHourOfDay
        | Field::HourOfDay
        | Field::Minute
        | Field::Second => Some(if n == 1 { (1, 19, Sign::Normal) } else { (2, 2, Sign::NotNegative) }),
        Field::WeekOfMonth | Field::AlignedWeekOfMonth => Some((1, 19, Sign::Normal)),
        Field::DayOfYear => Some(match n {
            1 => (1, 19, Sign::Normal),
            2 => (2, 3, Sign::NotNegative),
            _ => (3, 3, Sign::NotNegative),
        }),
        Field::Fraction => Some((n, n, Sign::NotNegative)),
        Field::MilliOfDay | Field::NanoOfSecond | Field::NanoOfDay | Field::ModifiedJulianDay => {
            Some(if n == 1 { (1, 19, Sign::Normal) } else { (n, 19, Sign::NotNegative) })
        }
        _ => None,
    }
}

/// The digits that fixed-width numeric fields right after item `i` need (Java's adjacent value
/// parsing: `yyyyMMdd` reads the year from what the month and day leave).
fn reserved_after(items: &[Item], i: usize) -> usize {
    let mut total = 0;
    for item in &items[i + 1..] {
        match item {
            Item::Field(f, n) => match numeric_spec(*f, *n) {
                Some((min, max, _)) if min == max => total += min,
                _ => break,
            },
            _ => break,
        }
    }
    total
}

fn parse_items(items: &[Item], s: &str, pos: &mut usize, p: &mut Parsed) -> bool {
    for (i, item) in items.iter().enumerate() {
        match item {
            Item::Literal(lit) => {
                if !s[*pos..].starts_with(lit.as_str()) {
                    return false;
                }
                *pos += lit.len();
            }
            Item::Optional(inner) => {
                let (saved_pos, saved) = (*pos, p.clone());
                if !parse_items(inner, s, pos, p) {
                    *pos = saved_pos;
                    *p = saved;
                }
            }
            Item::Field(f, n) => {
                if !parse_field(*f, *n, s, pos, p, reserved_after(items, i)) {
                    return false;
                }
            }
        }
    }
    true
}

fn parse_field(f: Field, n: usize, s: &str, pos: &mut usize, p: &mut Parsed, reserved: usize) -> bool {
    if let Some((min, max, sign)) = numeric_spec(f, n) {
        let Some(mut v) = parse_number(s, pos, min, max, sign, reserved) else { return false };
        match f {
            Field::YearOfEra | Field::Year | Field::WeekYear if n == 2 => v += 2000,
            Field::Fraction => v *= 10i64.pow((9 - n) as u32),
            _ => {}
        }
        return match p.slot(f) {
            Some(slot) => set(slot, v),
            None => true,
        };
    }
    let rest = &s[*pos..];
    let text = |names: &[&str], n: usize| -> Option<(i64, usize)> {
        let candidates: Vec<String> = names
            .iter()
            .map(|full| match n {
                4 => full.to_string(),
                5 => full.chars().take(1).collect(),
                _ => full.chars().take(3).collect(),
            })
            .collect();
        candidates.iter().enumerate().find(|(_, c)| rest.starts_with(c.as_str())).map(|(i, c)| (i as i64, c.len()))
    };
    let found = match f {
        Field::Month => text(&MONTHS, n).map(|(i, l)| (i + 1, l)),
        Field::DayOfWeekText | Field::LocalDayOfWeek => text(&DAYS, n.max(3)).map(|(i, l)| (i + 1, l)),
        Field::AmPm => text(&["AM", "PM"], 4),
        Field::Era => match n {
            4 => text(&["Before Christ", "Anno Domini"], 4),
            5 => text(&["B", "A"], 4),
            _ => text(&["BC", "AD"], 4),
        },
        Field::Quarter => match n {
            3 => text(&["Q1", "Q2", "Q3", "Q4"], 4).map(|(i, l)| (i + 1, l)),
            4 => text(&["1st quarter", "2nd quarter", "3rd quarter", "4th quarter"], 4).map(|(i, l)| (i + 1, l)),
            _ => text(&["1", "2", "3", "4"], 4).map(|(i, l)| (i + 1, l)),
        },
        Field::OffsetX => parse_offset(rest, n, true),
        Field::OffsetLowerX => parse_offset(rest, n, false),
        Field::OffsetZ => match n {
            4 => parse_gmt(rest),
            5 => parse_offset(rest, 5, true),
            _ => parse_offset(rest, 2, false),
        },
        Field::LocalizedOffset => parse_gmt(rest),
        Field::ZoneId | Field::ZoneText => parse_zone(rest),
        _ => None,
    };
    let Some((v, len)) = found else { return false };
    *pos += len;
    match p.slot(f) {
        Some(slot) => set(slot, v),
        None => true,
    }
}

fn parse_number(s: &str, pos: &mut usize, min: usize, max: usize, sign: Sign, reserved: usize) -> Option<i64> {
    let bytes = s.as_bytes();
    let mut i = *pos;
    let mut negative = false;
    let mut positive = false;
    match bytes.get(i) {
        Some(b'-') if sign != Sign::NotNegative => {
            negative = true;
            i += 1;
        }
        Some(b'+') if sign == Sign::ExceedsPad => {
            positive = true;
            i += 1;
        }
        _ => {}
    }
    let available = bytes[i..].iter().take(max + reserved).take_while(|b| b.is_ascii_digit()).count();
    let take = if reserved > 0 { available.saturating_sub(reserved).min(max).max(min) } else { available.min(max) };
    if take < min || take > available {
        return None;
    }
    if sign == Sign::ExceedsPad && ((positive && take <= min) || (!positive && !negative && take > min)) {
        return None;
    }
    let v: i64 = s[i..i + take].parse().ok()?;
    *pos = i + take;
    Some(if negative { -v } else { v })
}

fn two_digits(s: &[u8], at: usize) -> Option<i64> {
    match (s.get(at), s.get(at + 1)) {
        (Some(a), Some(b)) if a.is_ascii_digit() && b.is_ascii_digit() => Some(i64::from((a - b'0') * 10 + (b - b'0'))),
        _ => None,
    }
}

/// Parses an offset in the style of `X`/`x` with this many letters: 1 `+HHmm`, 2 `+HHMM`,
/// 3 `+HH:MM`, 4 `+HHMMss`, 5 `+HH:MM:ss`; `Z` stands for zero when `z_ok`.
/// Returns (offset seconds, length).
fn parse_offset(s: &str, n: usize, z_ok: bool) -> Option<(i64, usize)> {
    if z_ok && s.starts_with('Z') {
        return Some((0, 1));
    }
    let b = s.as_bytes();
    let sign = match b.first() {
        Some(b'+') => 1,
        Some(b'-') => -1,
        _ => return None,
    };
    let hours = two_digits(b, 1)?;
    let colon = n == 3 || n == 5;
    let mut i = 3;
    let mut minutes = 0;
    let mut seconds = 0;
    let sep = |i: usize| if colon { b.get(i) == Some(&b':') } else { true };
    let step = usize::from(colon);
    let mins_at = i + step;
    match (sep(i), two_digits(b, mins_at)) {
        (true, Some(m)) => {
            minutes = m;
            i = mins_at + 2;
        }
        _ if n == 1 => {}
        _ => return None,
    }
    if n >= 4 {
        let secs_at = i + step;
        if let (true, Some(sec)) = (sep(i), two_digits(b, secs_at)) {
            seconds = sec;
            i = secs_at + 2;
        }
    }
    if hours > 18 || minutes > 59 || seconds > 59 {
        return None;
    }
    Some((sign * (hours * 3600 + minutes * 60 + seconds), i))
}

/// Parses a localized offset: `GMT`, `GMT+1`, `GMT+01:00`, `GMT-5:30:15`.
fn parse_gmt(s: &str) -> Option<(i64, usize)> {
    let rest = s.strip_prefix("GMT")?;
    let b = rest.as_bytes();
    let sign = match b.first() {
        Some(b'+') => 1,
        Some(b'-') => -1,
        _ => return Some((0, 3)),
    };
    let mut i = 1;
    let digits = b[i..].iter().take(2).take_while(|c| c.is_ascii_digit()).count();
    if digits == 0 {
        return None;
    }
    let hours: i64 = rest[i..i + digits].parse().ok()?;
    i += digits;
    let mut total = hours * 3600;
    for unit in [60, 1] {
        if b.get(i) == Some(&b':') {
            let v = two_digits(b, i + 1)?;
            total += v * unit;
            i += 3;
        } else {
            break;
        }
    }
    Some((sign * total, 3 + i))
}

/// Parses a zone id: `Z`, `UTC`, `GMT`, `UT`, optionally with an offset, or a bare offset.
fn parse_zone(s: &str) -> Option<(i64, usize)> {
    if s.starts_with('+') || s.starts_with('-') {
        return parse_offset(s, 3, false).or_else(|| parse_offset(s, 2, false));
    }
    for prefix in ["UTC", "GMT", "UT", "Z"] {
        if let Some(rest) = s.strip_prefix(prefix) {
            if prefix != "Z" && (rest.starts_with('+') || rest.starts_with('-')) {
                let (off, len) = parse_offset(rest, 3, false).or_else(|| parse_offset(rest, 1, false))?;
                return Some((off, prefix.len() + len));
            }
            return Some((0, prefix.len()));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(pattern: &str, ms: i64) -> String {
        Formatter::new(pattern).unwrap().format(&DateTime::from_millis(ms))
    }

    fn parse(pattern: &str, s: &str) -> Option<String> {
        Formatter::new(pattern).unwrap().parse_millis(s).map(crate::convert::format_date_millis)
    }

    // 2023-10-23T13:55:01.543Z, a Monday.
    const T: i64 = 1_698_069_301_543;

    #[test]
    fn prints_common_letters() {
        assert_eq!(fmt("yyyy-MM-dd", T), "2023-10-23");
        assert_eq!(fmt("yyyy-MM-dd'T'HH:mm:ss.SSSZ", T), "2023-10-23T13:55:01.543+0000");
        assert_eq!(fmt("yyyy-MM-dd'T'HH:mm:ss.SSSXXX", T), "2023-10-23T13:55:01.543Z");
        assert_eq!(fmt("yy MMM MMMM d dd", T), "23 Oct October 23 23");
        assert_eq!(fmt("E EEE EEEE", T), "Mon Mon Monday");
        assert_eq!(fmt("h hh a H", T), "1 01 PM 13");
        assert_eq!(fmt("D DDD w Q QQQ", T), "296 296 43 4 Q4");
        assert_eq!(fmt("'at' HH 'o''clock' ''", T), "at 13 o'clock '");
        assert_eq!(fmt("[yyyy][ MM]", T), "2023 10");
        assert_eq!(fmt("S SS SSSSSS", T), "5 54 543000");
        assert_eq!(fmt("x xx xxx X VV z O", T), "+00 +0000 +00:00 Z Z Z GMT");
        assert_eq!(fmt("yyyy", -62_135_596_800_000), "0001");
        assert_eq!(fmt("uuuu G yyyy", -62_135_596_800_001), "0000 BC 0001");
        assert_eq!(fmt("yyyy", 253_402_300_800_000), "+10000");
        assert_eq!(fmt("MMMMM EEEEE", T), "O M");
        assert_eq!(fmt("h a", 0), "12 AM");
        assert_eq!(fmt("k K", 0), "24 0");
        assert_eq!(Formatter::default_format().format(&DateTime::from_millis(T)), "2023-10-23T13:55:01.543Z");
    }

    #[test]
    fn named_formats() {
        assert_eq!(fmt("strict_date_optional_time", T), "2023-10-23T13:55:01.543Z");
        assert_eq!(fmt("epoch_millis", T), "1698069301543");
        assert_eq!(fmt("epoch_second", T), "1698069301.543");
        assert_eq!(fmt("date", T), "2023-10-23");
        assert_eq!(fmt("basic_date", T), "20231023");
        assert_eq!(fmt("week_date", T), "2023-W43-1");
        assert_eq!(fmt("yyyy||epoch_millis", T), "2023");
        let nanos = Formatter::new("strict_date_optional_time_nanos").unwrap();
        assert_eq!(nanos.format(&DateTime::from_nanos(1_698_069_301_543_120_000)), "2023-10-23T13:55:01.54312Z");
    }

    #[test]
    fn rejects_bad_patterns() {
        assert_eq!(Formatter::new("yyyy-bb").unwrap_err(), "Invalid format: [yyyy-bb]: Unknown pattern letter: b");
        assert_eq!(Formatter::new("ddd").unwrap_err(), "Invalid format: [ddd]: Too many pattern letters: d");
        assert!(Formatter::new("yyyy'").unwrap_err().contains("incomplete string literal"));
        assert!(Formatter::new("yyyy]").is_err());
        assert!(Formatter::new("#").is_err());
    }

    #[test]
    fn parses() {
        assert_eq!(parse("yyyy-MM-dd", "2023-02-01").as_deref(), Some("2023-02-01T00:00:00.000Z"));
        assert_eq!(parse("yyyy-MM-dd HH:mm:ss", "2023-02-01 12:15:55").as_deref(), Some("2023-02-01T12:15:55.000Z"));
        assert_eq!(parse("yyyy-MM-dd", "2023-02-01 foo"), None);
        assert_eq!(parse("yyyy-MM", "2023-02-01"), None);
        assert_eq!(parse("yyyy-MM-dd HH:mm:ss", "2023-02-01"), None);
        assert_eq!(parse("yyyy-MM", "2023-02").as_deref(), Some("2023-02-01T00:00:00.000Z"));
        assert_eq!(parse("yyyyMMdd", "20230201").as_deref(), Some("2023-02-01T00:00:00.000Z"));
        assert_eq!(parse("yyyyMMddHHmmss", "20230201121555").as_deref(), Some("2023-02-01T12:15:55.000Z"));
        assert_eq!(parse("dd/MM/yy", "05/06/22").as_deref(), Some("2022-06-05T00:00:00.000Z"));
        assert_eq!(parse("MMM d, yyyy h:mm a", "Feb 1, 2023 3:04 PM").as_deref(), Some("2023-02-01T15:04:00.000Z"));
        assert_eq!(parse("MMMM dd yyyy", "February 01 2023").as_deref(), Some("2023-02-01T00:00:00.000Z"));
        assert_eq!(parse("EEE, dd MMM yyyy", "Wed, 01 Feb 2023").as_deref(), Some("2023-02-01T00:00:00.000Z"));
        assert_eq!(parse("EEE, dd MMM yyyy", "Thu, 01 Feb 2023"), None);
        assert_eq!(
            parse("yyyy-MM-dd'T'HH:mm:ss.SSSZ", "2023-02-01T12:00:00.250+0100").as_deref(),
            Some("2023-02-01T11:00:00.250Z")
        );
        assert_eq!(
            parse("yyyy-MM-dd'T'HH:mm:ssXXX", "2023-02-01T12:00:00Z").as_deref(),
            Some("2023-02-01T12:00:00.000Z")
        );
        assert_eq!(
            parse("yyyy-MM-dd'T'HH:mm:ssXXX", "2023-02-01T12:00:00-05:30").as_deref(),
            Some("2023-02-01T17:30:00.000Z")
        );
        assert_eq!(parse("yyyy-MM-dd[ HH:mm]", "2023-02-01").as_deref(), Some("2023-02-01T00:00:00.000Z"));
        assert_eq!(parse("yyyy-MM-dd[ HH:mm]", "2023-02-01 10:30").as_deref(), Some("2023-02-01T10:30:00.000Z"));
        assert_eq!(parse("HH:mm", "10:30").as_deref(), Some("1970-01-01T10:30:00.000Z"));
        assert_eq!(parse("yyyy-MM-dd", "2023-02-30"), None);
        assert_eq!(parse("yyyy-MM-dd", "2023-2-01"), None);
        assert_eq!(parse("yyyy-M-d", "2023-2-1").as_deref(), Some("2023-02-01T00:00:00.000Z"));
        assert_eq!(parse("yyyy-DDD", "2024-366").as_deref(), Some("2024-12-31T00:00:00.000Z"));
        assert_eq!(parse("yyyy-DDD", "2023-366"), None);
        assert_eq!(parse("YYYY-'W'ww-e", "2021-W01-1").as_deref(), Some("2021-01-04T00:00:00.000Z"));
        assert_eq!(parse("epoch_millis", "1698069301543").as_deref(), Some("2023-10-23T13:55:01.543Z"));
        assert_eq!(parse("epoch_second", "-1.5").as_deref(), Some("1969-12-31T23:59:58.500Z"));
        assert_eq!(parse("yyyy-MM-dd||epoch_millis", "1000").as_deref(), Some("1970-01-01T00:00:01.000Z"));
        assert_eq!(
            parse("strict_date_optional_time", "2023-02-01T12:15:55.000Z").as_deref(),
            Some("2023-02-01T12:15:55.000Z")
        );
        assert_eq!(
            parse("yyyy-MM-dd'T'HH:mm:ss VV", "2023-02-01T12:15:55 UTC").as_deref(),
            Some("2023-02-01T12:15:55.000Z")
        );
        assert_eq!(parse("yyyy", ""), None);
        assert_eq!(parse("yyyy", "12345"), None);
        assert_eq!(parse("yyyy", "+12345").as_deref(), Some("+12345-01-01T00:00:00.000Z"));
    }

    #[test]
    fn round_trips() {
        for p in [
            "yyyy-MM-dd'T'HH:mm:ss.SSSXXX",
            "dd MMMM uuuu hh:mm:ss.SSS a",
            "EEEE yyyyMMdd HHmmssSSS",
            "D yyyy HH:mm:ss.SSS",
        ] {
            let f = Formatter::new(p).unwrap();
            for ms in [0, T, -86_400_001, 951_782_400_000] {
                let s = f.format(&DateTime::from_millis(ms));
                assert_eq!(f.parse_millis(&s), Some(ms), "{p}: {s}");
            }
        }
    }
}
