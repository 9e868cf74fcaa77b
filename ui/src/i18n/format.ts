/** Locale-aware formatting of the numbers, durations and dates the screens show. */

const SECONDS_PER_MINUTE = 60;
const SECONDS_PER_HOUR = 3_600;
const SECONDS_PER_DAY = 86_400;

type DurationUnit = "day" | "hour" | "minute" | "second";

/**
 * A compact, ticking duration: "42s", "12m 05s", "3h 12m 05s", "2d 4h 12m".
 * Seconds are shown only under a day, so the text changes no faster than it is read.
 */
export function formatDuration(totalSeconds: number, locale: string): string {
  const secs = Math.max(0, Math.floor(totalSeconds));
  const days = Math.floor(secs / SECONDS_PER_DAY);
  const hours = Math.floor((secs % SECONDS_PER_DAY) / SECONDS_PER_HOUR);
  const minutes = Math.floor((secs % SECONDS_PER_HOUR) / SECONDS_PER_MINUTE);
  const seconds = secs % SECONDS_PER_MINUTE;

  const parts: [number, DurationUnit][] =
    days > 0
      ? [
          [days, "day"],
          [hours, "hour"],
          [minutes, "minute"],
        ]
      : hours > 0
        ? [
            [hours, "hour"],
            [minutes, "minute"],
            [seconds, "second"],
          ]
        : minutes > 0
          ? [
              [minutes, "minute"],
              [seconds, "second"],
            ]
          : [[seconds, "second"]];

  const list = new Intl.ListFormat(locale, { type: "unit", style: "narrow" });
  return list.format(
    parts.map(([value, unit], index) =>
      new Intl.NumberFormat(locale, {
        style: "unit",
        unit,
        unitDisplay: "narrow",
        // After the leading unit, pad so the width stays steady while it ticks.
        minimumIntegerDigits: index > 0 && unit !== "hour" ? 2 : 1,
      }).format(value),
    ),
  );
}

export function formatNumber(value: number, locale: string): string {
  return new Intl.NumberFormat(locale).format(value);
}

export function formatDateTime(epochMs: number, locale: string): string {
  return new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short" }).format(epochMs);
}

export function formatLongDate(epochMs: number, locale: string): string {
  return new Intl.DateTimeFormat(locale, { weekday: "long", day: "numeric", month: "long" }).format(epochMs);
}

const RELATIVE_UNITS: readonly [Intl.RelativeTimeFormatUnit, number][] = [
  ["year", 365 * SECONDS_PER_DAY],
  ["month", 30 * SECONDS_PER_DAY],
  ["week", 7 * SECONDS_PER_DAY],
  ["day", SECONDS_PER_DAY],
  ["hour", SECONDS_PER_HOUR],
  ["minute", SECONDS_PER_MINUTE],
];

/**
 * How long ago `epochMs` was, seen from `nowMs`, in the largest whole unit:
 * "5 minutes ago", "yesterday", "3 weeks ago". Under a minute, the minute is
 * "this minute" (locale words), so the text does not tick every second.
 */
export function formatTimeAgo(epochMs: number, nowMs: number, locale: string): string {
  const elapsed = Math.max(0, Math.floor((nowMs - epochMs) / 1_000));
  const format = new Intl.RelativeTimeFormat(locale, { numeric: "auto" });
  for (const [unit, seconds] of RELATIVE_UNITS) {
    if (elapsed >= seconds) return format.format(-Math.floor(elapsed / seconds), unit);
  }
  return format.format(0, "minute");
}

/** A network round trip: "12 ms". */
export function formatRoundTrip(milliseconds: number, locale: string): string {
  return new Intl.NumberFormat(locale, { style: "unit", unit: "millisecond", unitDisplay: "short" }).format(
    Math.round(milliseconds),
  );
}
