//! Times as the doors take and show them: RFC 3339 or a bare date in, Unix
//! milliseconds inside, and the calendar arithmetic rewards need.

/// Parses `2026-12-01` (midnight UTC) or an RFC 3339 time into Unix
/// milliseconds; the error names the input.
pub fn parse_time(s: &str) -> Result<i64, String> {
    let full = if s.len() == 10 {
        format!("{s}T00:00:00Z")
    } else {
        s.to_owned()
    };
    let t = humantime::parse_rfc3339_weak(&full).map_err(|e| format!("bad time {s:?}: {e}"))?;
    let ms = t
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|_| format!("time {s:?} is before 1970"))?
        .as_millis();
    i64::try_from(ms).map_err(|_| format!("time {s:?} is too far away"))
}

/// Unix milliseconds as RFC 3339 with seconds (UTC); times before 1970 read
/// as the epoch.
pub fn format_ms(ms: i64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms.max(0).unsigned_abs());
    humantime::format_rfc3339_seconds(t).to_string()
}

const MS_PER_DAY: i64 = 86_400_000;

/// The first millisecond of the calendar month (UTC) holding `ms`; times
/// before 1970 read as the epoch.
pub fn month_start_ms(ms: i64) -> i64 {
    let days = ms.max(0) / MS_PER_DAY;
    let (year, month, _) = civil_from_days(days);
    days_from_civil(year, month, 1) * MS_PER_DAY
}

// Howard Hinnant's proleptic Gregorian conversions, written out because
// humantime has no calendar fields and a date crate for two functions is
// more than the job needs.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = year - i64::from(month <= 2);
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn month_starts_are_utc_calendar_months() {
        // 2026-11-29T16:00:00Z → 2026-11-01T00:00:00Z
        assert_eq!(month_start_ms(1_795_968_000_000), 1_793_491_200_000);
        // 2024-02-29T23:59:59.999Z → 2024-02-01
        assert_eq!(month_start_ms(1_709_251_199_999), 1_706_745_600_000);
        // The first millisecond of a month is its own start.
        assert_eq!(month_start_ms(1_706_745_600_000), 1_706_745_600_000);
        assert_eq!(month_start_ms(0), 0);
        assert_eq!(month_start_ms(-5), 0);
    }

    #[test]
    fn month_start_agrees_with_the_calendar_for_every_month() {
        for year in [1970, 1999, 2000, 2024, 2100] {
            for month in 1..=12 {
                let first = parse_time(&format!("{year}-{month:02}-01")).unwrap();
                assert_eq!(month_start_ms(first + 17 * MS_PER_DAY + 5), first);
                assert_eq!(format_ms(first), format!("{year}-{month:02}-01T00:00:00Z"));
            }
        }
    }

    #[test]
    fn times_parse_as_dates_or_rfc3339() {
        assert_eq!(parse_time("1970-01-02").unwrap(), MS_PER_DAY);
        assert_eq!(parse_time("1970-01-01T00:00:01Z").unwrap(), 1000);
        assert!(parse_time("yesterday").unwrap_err().contains("yesterday"));
    }
}
