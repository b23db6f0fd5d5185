//! The storefront HTML page.

use crate::config::Config;
use crate::i18n;
use crate::money::{approx_rate, format_price, to_cents, with_vat};
use std::fmt::Write;

/// The catalogue: name and net price in euro cents.
const PRODUCTS: &[(&str, i64)] = &[
    ("Tandem Espresso Cup", 1250),
    ("Tandem T-Shirt", 1990),
    ("Tandem Notebook", 700),
    ("Tandem Tote Bag", 1500),
];

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:42rem;margin:2rem auto;\
padding:0 1rem;color:#222}table{border-collapse:collapse;width:100%}\
th,td{padding:.4rem .6rem;border-bottom:1px solid #ddd;text-align:left}\
td.price,th.price{text-align:right}footer{margin-top:2rem;color:#666;font-size:.9rem}";

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A display name for common payment method ids; others are shown as given.
pub fn payment_method_name(id: &str) -> &str {
    match id.to_ascii_lowercase().replace(['-', ' '], "_").as_str() {
        "card" | "cards" | "credit_card" => "Card",
        "paypal" => "PayPal",
        "ideal" => "iDEAL",
        "bancontact" => "Bancontact",
        "klarna" => "Klarna",
        "sofort" => "Sofort",
        "giropay" => "giropay",
        "sepa" | "sepa_debit" => "SEPA Direct Debit",
        "apple_pay" | "applepay" => "Apple Pay",
        "google_pay" | "googlepay" => "Google Pay",
        "blik" => "BLIK",
        "przelewy24" | "p24" => "Przelewy24",
        "mbway" | "mb_way" => "MB WAY",
        "multibanco" => "Multibanco",
        "bizum" => "Bizum",
        "satispay" => "Satispay",
        "swish" => "Swish",
        "mobilepay" => "MobilePay",
        "vipps" => "Vipps",
        "twint" => "TWINT",
        "trustly" => "Trustly",
        "eps" => "EPS",
        "cartes_bancaires" | "cb" => "Cartes Bancaires",
        _ => id,
    }
}

/// A VAT rate as a percentage with at most one decimal: 0.2 → `20`, 0.081 → `8.1`.
pub fn vat_percent(rate: f64) -> String {
    let text = format!("{:.1}", rate * 100.0);
    text.strip_suffix(".0").unwrap_or(&text).to_string()
}

/// Renders the storefront for a market and release.
pub fn render(config: &Config, release: &str) -> String {
    let labels = i18n::labels(&config.locale);
    let price = |cents: i64| escape(&format_price(cents, &config.currency, &config.locale));
    let rate = approx_rate(&config.currency);

    let mut html = String::with_capacity(4096);
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{greeting} · {name}</title>\n<style>{STYLE}</style>\n</head>\n\
         <body data-market=\"{market}\" data-release=\"{release}\" data-vat-rate=\"{vat_rate}\">\n\
         <h1>{greeting}</h1>\n<p class=\"market\">{name}</p>\n<h2>{products}</h2>\n<table>\n\
         <tr><th>{product}</th><th class=\"price\">{price_label} ({incl_vat} {vat_pct}%)</th></tr>\n",
        lang = labels.lang,
        greeting = escape(labels.greeting),
        name = escape(&config.name),
        market = escape(&config.market),
        release = escape(release),
        products = escape(labels.products),
        product = escape(labels.product),
        price_label = escape(labels.price),
        incl_vat = escape(labels.incl_vat),
        vat_rate = config.vat_rate,
        vat_pct = vat_percent(config.vat_rate),
    );
    for (product, net_eur_cents) in PRODUCTS {
        let net = (*net_eur_cents as f64 * rate).round() as i64;
        let _ = writeln!(
            html,
            "<tr><td>{}</td><td class=\"price\">{}</td></tr>",
            escape(product),
            price(with_vat(net, config.vat_rate))
        );
    }
    let threshold = price(to_cents(config.free_shipping_threshold));
    let shipping = escape(labels.free_shipping).replace("{amount}", &threshold);
    let _ = write!(
        html,
        "</table>\n<p class=\"shipping\">{shipping}</p>\n<h2>{}</h2>\n<ul class=\"payment-methods\">\n",
        escape(labels.payment_methods)
    );
    for method in &config.payment_methods {
        let _ = writeln!(html, "<li>{}</li>", escape(payment_method_name(method)));
    }
    let _ = write!(
        html,
        "</ul>\n<footer>{}: {} ({}) · {}: {}</footer>\n</body>\n</html>\n",
        escape(labels.market),
        escape(&config.name),
        escape(&config.market),
        escape(labels.release),
        escape(release)
    );
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vat_rates_show_as_short_percentages() {
        assert_eq!(vat_percent(0.2), "20");
        assert_eq!(vat_percent(0.081), "8.1");
        assert_eq!(vat_percent(0.255), "25.5");
    }

    #[test]
    fn escapes_html() {
        assert_eq!(
            escape("<a href=\"x\">Tom & Jerry's</a>"),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;"
        );
    }

    #[test]
    fn english_page_with_defaults() {
        let html = render(&Config::with_market("ie"), "dev");
        assert!(html.contains("<html lang=\"en\">"));
        assert!(html.contains("Welcome to the Tandem Shop"));
        assert!(html.contains("€12.50"), "{html}");
        assert!(html.contains("Free shipping on orders over €50.00"));
        assert!(html.contains("<li>Card</li>"));
        assert!(html.contains("Release: dev"));
    }

    #[test]
    fn localized_page_escapes_config_values() {
        let mut config = Config::with_market("se");
        config.name = "<Sverige>".into();
        config.locale = "sv-SE".into();
        config.currency = "SEK".into();
        config.vat_rate = 0.25;
        config.payment_methods = vec!["swish".into(), "<script>".into()];
        let html = render(&config, "2.0.0");
        assert!(html.contains("Välkommen till Tandem-butiken"));
        assert!(html.contains("&lt;Sverige&gt;"));
        assert!(!html.contains("<script>"));
        assert!(html.contains("<li>Swish</li>"));
        // 7.00 EUR × 11.5 = 80.50 SEK net, + 25 % VAT = 100.63 SEK.
        assert!(html.contains("100,63\u{a0}kr"), "{html}");
        assert!(html.contains("Fri frakt från 50,00\u{a0}kr"));
    }
}
