//! Prices: VAT, rough exchange rates for the demo catalogue, and locale-aware
//! formatting (decimal/grouping separators, currency symbol placement).

const NBSP: &str = "\u{a0}";
const NNBSP: &str = "\u{202f}";

/// Splits `fr-FR` / `fr_FR` / `FR` into a lower-case language and upper-case region.
pub fn split_locale(locale: &str) -> (String, String) {
    let mut parts = locale.trim().split(['-', '_']);
    let lang = parts.next().unwrap_or("").to_ascii_lowercase();
    let region = parts.find(|p| p.len() == 2).unwrap_or("").to_ascii_uppercase();
    (lang, region)
}

/// The symbol shown for a currency code; unknown codes are shown as the code.
pub fn currency_symbol(code: &str) -> &str {
    match code {
        "EUR" => "€",
        "GBP" => "£",
        "USD" => "$",
        "JPY" => "¥",
        "SEK" | "NOK" | "ISK" => "kr",
        "DKK" => "kr.",
        "PLN" => "zł",
        "CZK" => "Kč",
        "HUF" => "Ft",
        "RON" => "lei",
        "BGN" => "лв.",
        "TRY" => "₺",
        "UAH" => "₴",
        "INR" => "₹",
        other => other,
    }
}

/// Number of minor-unit digits displayed for a currency.
pub fn decimals(code: &str) -> u32 {
    match code {
        "JPY" | "KRW" | "ISK" | "CLP" | "HUF" => 0,
        _ => 2,
    }
}

/// Approximate units of `code` per euro, so demo prices look plausible everywhere.
pub fn approx_rate(code: &str) -> f64 {
    match code {
        "GBP" => 0.85,
        "USD" => 1.1,
        "CHF" => 0.95,
        "SEK" | "NOK" => 11.5,
        "DKK" => 7.46,
        "PLN" => 4.3,
        "CZK" => 25.0,
        "HUF" => 390.0,
        "RON" => 5.0,
        "BGN" => 1.96,
        "ISK" => 150.0,
        "JPY" => 160.0,
        _ => 1.0,
    }
}

/// Converts an amount to minor units (cents), rounding half away from zero.
pub fn to_cents(amount: f64) -> i64 {
    (amount * 100.0).round() as i64
}

/// Applies VAT to a net price in cents.
pub fn with_vat(net_cents: i64, vat_rate: f64) -> i64 {
    (net_cents as f64 * (1.0 + vat_rate)).round() as i64
}

struct NumberFormat {
    decimal: &'static str,
    group: &'static str,
    /// Integer digits needed before grouping kicks in (5 means 1234 stays ungrouped).
    min_grouped_digits: usize,
    symbol_first: bool,
}

fn number_format(locale: &str) -> NumberFormat {
    let (lang, region) = split_locale(locale);
    let fmt = |decimal, group, symbol_first| NumberFormat {
        decimal,
        group,
        min_grouped_digits: 4,
        symbol_first,
    };
    if region == "CH" || region == "LI" {
        return fmt(".", "’", true);
    }
    match lang.as_str() {
        "en" | "ga" | "mt" | "ja" | "zh" | "ko" | "he" | "th" | "hi" => fmt(".", ",", true),
        "nl" => fmt(",", ".", true),
        "fr" => fmt(",", NNBSP, false),
        "es" | "pl" => NumberFormat {
            min_grouped_digits: 5,
            ..fmt(",", if lang == "es" { "." } else { NBSP }, false)
        },
        "de" | "it" | "da" | "el" | "ro" | "sl" | "hr" | "tr" | "id" => fmt(",", ".", false),
        // pt, sv, fi, cs, sk, hu, bg, et, lv, lt, nb, ru, uk and everything else.
        _ => fmt(",", NBSP, false),
    }
}

/// Formats an amount in minor units (cents) for a currency and locale, e.g.
/// `format_price(123456, "EUR", "fr-FR")` → `1 234,56 €` and `"en-IE"` → `€1,234.56`.
pub fn format_price(cents: i64, currency: &str, locale: &str) -> String {
    let fmt = number_format(locale);
    let digits = decimals(currency);
    let magnitude = cents.unsigned_abs();
    let (units, fraction) = if digits == 0 {
        ((magnitude + 50) / 100, String::new())
    } else {
        (magnitude / 100, format!("{}{:02}", fmt.decimal, magnitude % 100))
    };
    let number = format!(
        "{}{fraction}",
        group_digits(&units.to_string(), fmt.group, fmt.min_grouped_digits)
    );
    let symbol = currency_symbol(currency);
    let sign = if cents < 0 && (units > 0 || digits > 0) {
        "-"
    } else {
        ""
    };
    if fmt.symbol_first {
        // A letter code or a Dutch/Swiss-style prefix gets a space: `CHF 12.50`, `€ 12,50`.
        let spaced = symbol.chars().all(|c| c.is_ascii_alphabetic()) || fmt.decimal == ",";
        let gap = if spaced || fmt.group == "’" { NBSP } else { "" };
        format!("{sign}{symbol}{gap}{number}")
    } else {
        format!("{sign}{number}{NBSP}{symbol}")
    }
}

fn group_digits(digits: &str, separator: &str, min_grouped_digits: usize) -> String {
    if digits.len() < min_grouped_digits {
        return digits.to_string();
    }
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 * separator.len());
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push_str(separator);
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Formats with the non-breaking spaces made visible as `_`, for readable expectations.
    fn f(cents: i64, currency: &str, locale: &str) -> String {
        format_price(cents, currency, locale).replace(['\u{a0}', '\u{202f}'], "_")
    }

    #[test]
    fn english_uses_dot_and_prefix_symbol() {
        assert_eq!(f(1250, "EUR", "en-IE"), "€12.50");
        assert_eq!(f(123_456_789, "GBP", "en-GB"), "£1,234,567.89");
        assert_eq!(f(5, "USD", "en"), "$0.05");
        assert_eq!(f(1250, "CHF", "en"), "CHF_12.50");
        assert_eq!(f(-1250, "EUR", "en-IE"), "-€12.50");
    }

    #[test]
    fn european_locales_use_comma() {
        assert_eq!(f(123_456, "EUR", "fr-FR"), "1_234,56_€");
        assert_eq!(f(123_456, "EUR", "de-DE"), "1.234,56_€");
        assert_eq!(f(123_456, "EUR", "nl-NL"), "€_1.234,56");
        assert_eq!(f(123_456, "EUR", "it_IT"), "1.234,56_€");
        assert_eq!(f(123_456, "EUR", "es-ES"), "1234,56_€");
        assert_eq!(f(1_234_567, "EUR", "es-ES"), "12.345,67_€");
        assert_eq!(f(123_456, "EUR", "pt-PT"), "1_234,56_€");
        assert_eq!(f(4999, "PLN", "pl-PL"), "49,99_zł");
        assert_eq!(f(19_900, "SEK", "sv-SE"), "199,00_kr");
        assert_eq!(f(19_900, "DKK", "da-DK"), "199,00_kr.");
        assert_eq!(f(1250, "CZK", "cs-CZ"), "12,50_Kč");
        assert_eq!(f(1250, "EUR", "el-GR"), "12,50_€");
        assert_eq!(f(1250, "RON", "ro-RO"), "12,50_lei");
    }

    #[test]
    fn zero_decimal_currencies_and_swiss_format() {
        assert_eq!(f(499_950, "HUF", "hu-HU"), "5_000_Ft");
        assert_eq!(f(123_456, "CHF", "de-CH"), "CHF_1’234.56");
        assert_eq!(f(-40, "HUF", "hu-HU"), "0_Ft");
    }

    #[test]
    fn vat_and_conversion() {
        assert_eq!(with_vat(1000, 0.2), 1200);
        assert_eq!(with_vat(1250, 0.21), 1513);
        assert_eq!(with_vat(999, 0.0), 999);
        assert_eq!(to_cents(49.9), 4990);
        assert_eq!(to_cents(0.125), 13);
        assert_eq!(split_locale("pt_PT"), ("pt".to_string(), "PT".to_string()));
        assert_eq!(split_locale("sr-Latn-RS"), ("sr".to_string(), "RS".to_string()));
        assert_eq!(split_locale("EN"), ("en".to_string(), String::new()));
    }
}
