//! The patient's clock: the browser's time zone as a [`LocalZone`], the zones the patient was in
//! (travel), and local-time text for FHIR.
//!
//! * [`DeviceZone`] is the zone the browser runs in: `offset_at(t) = -new Date(t).getTimezoneOffset()
//!   * 60`, so DST changes are whatever the browser knows.
//! * [`NamedZone`] is an IANA zone read through `Intl.DateTimeFormat` (for zones the patient was in
//!   before, e.g. before a flight).
//! * [`ZoneLog`] is the list of zones the app saw, kept in the vault as the app document
//!   [`ZONE_DOC`]. Doses follow the wall clock of where the patient was (see
//!   `phr_views::adherence`): an 08:00 dose is due at 08:00 in New York before the flight and at
//!   08:00 in London after it.
//!
//! Nothing here is logged or stored outside the vault.

use js_sys::{Array, Date, Object, Reflect};
use phr_views::adherence::{LocalZone, ZoneHistory};
use phr_views::{Day, LocalDateTime, LocalTime, Timestamp};
use serde::{Deserialize, Serialize};
use wasm_bindgen::{JsCast, JsValue};

/// The app document holding the zones the patient was in.
pub const ZONE_DOC: &str = "zone-history";

/// The zone the browser runs in.
#[derive(Clone, Copy, Debug, Default)]
pub struct DeviceZone;

impl LocalZone for DeviceZone {
    fn offset_at(&self, t: Timestamp) -> i32 {
        let d = Date::new(&JsValue::from_f64(t.0 as f64 * 1000.0));
        let minutes = d.get_timezone_offset();
        if minutes.is_finite() {
            (-minutes * 60.0) as i32
        } else {
            0
        }
    }
}

/// An IANA zone (`Europe/London`), read with `Intl.DateTimeFormat`.
pub struct NamedZone {
    format: js_sys::Intl::DateTimeFormat,
}

impl NamedZone {
    /// None when the browser does not know the zone.
    pub fn new(name: &str) -> Option<NamedZone> {
        let intl = Reflect::get(&js_sys::global(), &"Intl".into()).ok()?;
        let ctor: js_sys::Function = Reflect::get(&intl, &"DateTimeFormat".into())
            .ok()?
            .dyn_into()
            .ok()?;
        let options = Object::new();
        for (k, v) in [
            ("timeZone", name),
            ("hourCycle", "h23"),
            ("year", "numeric"),
            ("month", "2-digit"),
            ("day", "2-digit"),
            ("hour", "2-digit"),
            ("minute", "2-digit"),
            ("second", "2-digit"),
        ] {
            Reflect::set(&options, &k.into(), &v.into()).ok()?;
        }
        let args = Array::of2(&Array::of1(&"en-US".into()), &options);
        // `new Intl.DateTimeFormat` throws a RangeError for an unknown zone: construct it with
        // Reflect so that becomes None instead of an exception.
        let format = Reflect::construct(&ctor, &args).ok()?;
        Some(NamedZone {
            format: format.unchecked_into(),
        })
    }
}

impl LocalZone for NamedZone {
    fn offset_at(&self, t: Timestamp) -> i32 {
        let date = Date::new(&JsValue::from_f64(t.0 as f64 * 1000.0));
        let parts = self.format.format_to_parts(&date);
        let mut v = [0i64; 6];
        for part in parts.iter() {
            let kind = Reflect::get(&part, &"type".into())
                .ok()
                .and_then(|k| k.as_string())
                .unwrap_or_default();
            let value: i64 = Reflect::get(&part, &"value".into())
                .ok()
                .and_then(|k| k.as_string())
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            let slot = match kind.as_str() {
                "year" => 0,
                "month" => 1,
                "day" => 2,
                "hour" => 3,
                "minute" => 4,
                "second" => 5,
                _ => continue,
            };
            v[slot] = value;
        }
        let Some(day) = Day::from_ymd(v[0] as i32, v[1] as u32, v[2] as u32) else {
            return 0;
        };
        let wall = i64::from(day.0) * 86_400 + (v[3] % 24) * 3600 + v[4] * 60 + v[5];
        (wall - t.0) as i32
    }
}

/// The IANA name of the browser's zone, when it says.
pub fn device_zone_name() -> Option<String> {
    let intl = Reflect::get(&js_sys::global(), &"Intl".into()).ok()?;
    let ctor: js_sys::Function = Reflect::get(&intl, &"DateTimeFormat".into())
        .ok()?
        .dyn_into()
        .ok()?;
    let format = Reflect::construct(&ctor, &Array::new()).ok()?;
    let resolved: js_sys::Function = Reflect::get(&format, &"resolvedOptions".into())
        .ok()?
        .dyn_into()
        .ok()?;
    let options = resolved.call0(&format).ok()?;
    Reflect::get(&options, &"timeZone".into())
        .ok()?
        .as_string()
        .filter(|s| !s.is_empty())
}

/// One zone the patient was in, from an instant on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZoneEntry {
    /// RFC 3339.
    pub from: String,
    /// IANA name.
    pub zone: String,
}

/// The zones the app saw, oldest first.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZoneLog {
    #[serde(default)]
    pub zones: Vec<ZoneEntry>,
}

impl ZoneLog {
    /// The log with the browser's current zone added when it differs from the last one seen
    /// (None when nothing changed or the browser does not name its zone).
    pub fn with_device_zone(&self, now: &str) -> Option<ZoneLog> {
        let name = device_zone_name()?;
        if self.zones.last().is_some_and(|z| z.zone == name) {
            return None;
        }
        let mut next = self.clone();
        next.zones.push(ZoneEntry {
            from: now.to_string(),
            zone: name,
        });
        Some(next)
    }

    /// The zone to compute doses in: the recorded zones, then the browser's zone from the last
    /// change on. Without a record, the browser's zone throughout.
    pub fn zone(&self) -> Box<dyn LocalZone> {
        let current = device_zone_name();
        // The browser's own zone is read with Date; earlier zones through Intl.
        let zone_of = |name: &str| -> Box<dyn LocalZone> {
            if current.as_deref() == Some(name) {
                Box::new(DeviceZone)
            } else {
                NamedZone::new(name).map_or_else(
                    || Box::new(DeviceZone) as Box<dyn LocalZone>,
                    |z| Box::new(z) as Box<dyn LocalZone>,
                )
            }
        };
        let mut entries: Vec<(Timestamp, String)> = self
            .zones
            .iter()
            .filter_map(|z| Some((Timestamp::parse(&z.from)?, z.zone.clone())))
            .collect();
        if let Some(name) = &current {
            if entries.last().is_some_and(|(_, z)| z != name) {
                entries.push((now(), name.clone()));
            }
        }
        let mut it = entries.into_iter();
        let Some((_, first)) = it.next() else {
            return Box::new(DeviceZone);
        };
        let changes: Vec<(Timestamp, Box<dyn LocalZone>)> =
            it.map(|(from, name)| (from, zone_of(&name))).collect();
        if changes.is_empty() {
            return zone_of(&first);
        }
        Box::new(ZoneHistory {
            initial: zone_of(&first),
            changes,
        })
    }
}

/// Now, to the second.
pub fn now() -> Timestamp {
    Timestamp((js_sys::Date::now() / 1000.0).floor() as i64)
}

fn two(n: u32) -> String {
    format!("{n:02}")
}

/// An instant as RFC 3339 in the browser's local time with its offset
/// (`2026-03-08T08:05:00-05:00`), so dates written from it are the patient's local dates.
pub fn local_rfc3339(ms: f64) -> String {
    let d = Date::new(&JsValue::from_f64(ms));
    let offset = -d.get_timezone_offset() as i32;
    let sign = if offset < 0 { '-' } else { '+' };
    let abs = offset.unsigned_abs();
    format!(
        "{:04}-{}-{}T{}:{}:{}{sign}{}:{}",
        d.get_full_year(),
        two(d.get_month() + 1),
        two(d.get_date()),
        two(d.get_hours()),
        two(d.get_minutes()),
        two(d.get_seconds()),
        two(abs / 60),
        two(abs % 60)
    )
}

/// Now as local RFC 3339.
pub fn now_local() -> String {
    local_rfc3339(js_sys::Date::now())
}

/// Today's date in the browser (`YYYY-MM-DD`), for date inputs.
pub fn today_text() -> String {
    now_local()[..10].to_string()
}

/// Now as a `datetime-local` input value (`2026-03-08T08:05`).
pub fn now_input() -> String {
    now_local()[..16].to_string()
}

/// A `datetime-local` value (`2026-03-08T08:05`) as RFC 3339 with the browser's offset at that
/// moment. A time the clock skips (DST) moves forward like the browser does.
pub fn input_to_rfc3339(value: &str) -> Option<String> {
    let w = phr_views::When::parse(value)?;
    let t = w.local_time()?;
    let (y, m, d) = w.day().ymd();
    let date = Date::new_with_year_month_day_hr_min(
        y as u32,
        m as i32 - 1,
        d as i32,
        t.hour() as i32,
        t.minute() as i32,
    );
    let ms = date.get_time();
    ms.is_finite().then(|| local_rfc3339(ms))
}

/// `08:00`.
pub fn time_text(t: LocalTime) -> String {
    format!("{:02}:{:02}", t.hour(), t.minute())
}

/// The wall-clock reading of an instant in `zone`, as `HH:MM`, with the date when it is not
/// `day`.
pub fn clock_text(zone: &dyn LocalZone, t: Timestamp, day: Day) -> String {
    let LocalDateTime { day: d, time } = zone.to_local(t);
    if d == day {
        time_text(time)
    } else {
        format!("{} {}", d, time_text(time))
    }
}

/// `Monday 4 March`.
pub fn day_text(d: Day) -> String {
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    const DAYS: [&str; 7] = [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ];
    let (_, m, day) = d.ymd();
    format!(
        "{} {} {}",
        DAYS[d.weekday().index()],
        day,
        MONTHS[(m as usize).saturating_sub(1).min(11)]
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use phr_views::adherence::{Resolved, RuleZone};
    use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

    wasm_bindgen_test_configure!(run_in_browser);

    fn ts(s: &str) -> Timestamp {
        Timestamp::parse(s).unwrap()
    }

    /// Every hour of 2024 to 2026, plus the seconds around each change.
    fn instants() -> Vec<Timestamp> {
        let start = ts("2024-01-01T00:00:00Z").0;
        let end = ts("2027-01-01T00:00:00Z").0;
        (start..end)
            .step_by(3600)
            .flat_map(|t| [t, t - 1, t + 1])
            .map(Timestamp)
            .collect()
    }

    #[wasm_bindgen_test]
    fn named_zones_match_the_rules_of_new_york_and_london() {
        let ny = NamedZone::new("America/New_York").expect("the browser knows New York");
        let london = NamedZone::new("Europe/London").expect("the browser knows London");
        let (ny_rules, london_rules) = (RuleZone::new_york(), RuleZone::london());
        for t in instants() {
            assert_eq!(ny.offset_at(t), ny_rules.offset_at(t), "New York at {t:?}");
            assert_eq!(
                london.offset_at(t),
                london_rules.offset_at(t),
                "London at {t:?}"
            );
        }
        // 02:30 on the spring-forward day does not exist in New York; 01:30 in November twice.
        let day = |y, m, d| Day::from_ymd(y, m, d).unwrap();
        let at = |d: Day, h, m| LocalDateTime::new(d, LocalTime::hm(h, m).unwrap());
        assert!(matches!(
            ny.resolve(at(day(2026, 3, 8), 2, 30)),
            Resolved::Skipped {
                gap_seconds: 3600,
                ..
            }
        ));
        assert!(matches!(
            ny.resolve(at(day(2026, 11, 1), 1, 30)),
            Resolved::Repeated { .. }
        ));
        assert!(NamedZone::new("Not/AZone").is_none());
    }

    #[wasm_bindgen_test]
    fn the_device_zone_is_the_browsers_zone() {
        let name = device_zone_name().expect("the browser names its zone");
        let named = NamedZone::new(&name).unwrap();
        for t in instants().into_iter().step_by(7) {
            assert_eq!(
                DeviceZone.offset_at(t),
                named.offset_at(t),
                "{name} at {t:?}"
            );
        }
        // Local RFC 3339 text is the same instant, written with the device's offset.
        let ms = 1_772_600_000_123.0;
        let text = local_rfc3339(ms);
        assert_eq!(
            Timestamp::parse(&text),
            Some(Timestamp((ms / 1000.0) as i64))
        );
        assert!(phr_record::time::is_instant(&text), "{text}");
        let input = &text[..16];
        assert_eq!(
            input_to_rfc3339(input).as_deref().map(|s| &s[..16]),
            Some(input)
        );
    }

    #[wasm_bindgen_test]
    fn the_zone_log_follows_the_patient() {
        let log = ZoneLog {
            zones: vec![
                ZoneEntry {
                    from: "2026-03-01T00:00:00Z".into(),
                    zone: "America/New_York".into(),
                },
                ZoneEntry {
                    from: "2026-03-05T13:00:00Z".into(),
                    zone: "Europe/London".into(),
                },
            ],
        };
        let zone = log.zone();
        // Before the flight, New York; after it, London (whatever the browser's own zone is,
        // unless it is London, the browser's zone follows from now on).
        assert_eq!(zone.offset_at(ts("2026-03-04T12:00:00Z")), -5 * 3600);
        let after = ts("2026-03-05T14:00:00Z");
        if device_zone_name().as_deref() == Some("Europe/London") {
            assert_eq!(zone.offset_at(after), 0);
        }
        // Nothing new to note when the last zone is the browser's.
        let here = device_zone_name().unwrap();
        let same = ZoneLog {
            zones: vec![ZoneEntry {
                from: "2026-03-01T00:00:00Z".into(),
                zone: here.clone(),
            }],
        };
        assert_eq!(same.with_device_zone("2026-03-02T00:00:00Z"), None);
        let moved = log.with_device_zone("2026-03-06T00:00:00Z");
        if here != "Europe/London" {
            assert_eq!(moved.unwrap().zones.last().unwrap().zone, here);
        }
    }
}
