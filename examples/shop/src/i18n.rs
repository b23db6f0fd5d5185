//! Storefront labels per language, chosen by the locale's language prefix.

use crate::money::split_locale;

/// The labels of the storefront page in one language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Labels {
    /// The language code used for the page (`<html lang>`).
    pub lang: &'static str,
    pub greeting: &'static str,
    pub products: &'static str,
    pub product: &'static str,
    pub price: &'static str,
    pub incl_vat: &'static str,
    pub payment_methods: &'static str,
    /// Contains `{amount}`, replaced with the formatted threshold.
    pub free_shipping: &'static str,
    pub market: &'static str,
    pub release: &'static str,
}

/// Language code and `|`-separated labels, in the order of the `Labels` fields.
const TABLE: &[(&str, &str)] = &[
    ("en", "Welcome to the Tandem Shop|Our products|Product|Price|incl. VAT|Payment methods|Free shipping on orders over {amount}|Market|Release"),
    ("fr", "Bienvenue dans la boutique Tandem|Nos produits|Produit|Prix|TTC|Moyens de paiement|Livraison gratuite dès {amount} d'achat|Marché|Version"),
    ("de", "Willkommen im Tandem-Shop|Unsere Produkte|Produkt|Preis|inkl. MwSt.|Zahlungsarten|Kostenloser Versand ab {amount}|Markt|Version"),
    ("nl", "Welkom in de Tandem-winkel|Onze producten|Product|Prijs|incl. btw|Betaalmethoden|Gratis verzending vanaf {amount}|Markt|Versie"),
    ("it", "Benvenuti nel negozio Tandem|I nostri prodotti|Prodotto|Prezzo|IVA inclusa|Metodi di pagamento|Spedizione gratuita a partire da {amount}|Mercato|Versione"),
    ("es", "Bienvenido a la tienda Tandem|Nuestros productos|Producto|Precio|IVA incluido|Métodos de pago|Envío gratuito a partir de {amount}|Mercado|Versión"),
    ("pt", "Bem-vindo à loja Tandem|Os nossos produtos|Produto|Preço|IVA incluído|Métodos de pagamento|Envio gratuito a partir de {amount}|Mercado|Versão"),
    ("pl", "Witamy w sklepie Tandem|Nasze produkty|Produkt|Cena|z VAT|Metody płatności|Darmowa dostawa od {amount}|Rynek|Wersja"),
    ("sv", "Välkommen till Tandem-butiken|Våra produkter|Produkt|Pris|inkl. moms|Betalningsmetoder|Fri frakt från {amount}|Marknad|Version"),
    ("da", "Velkommen til Tandem-butikken|Vores produkter|Produkt|Pris|inkl. moms|Betalingsmetoder|Gratis fragt fra {amount}|Marked|Version"),
    ("nb", "Velkommen til Tandem-butikken|Våre produkter|Produkt|Pris|inkl. mva.|Betalingsmåter|Fri frakt fra {amount}|Marked|Versjon"),
    ("fi", "Tervetuloa Tandem-kauppaan|Tuotteemme|Tuote|Hinta|sis. ALV|Maksutavat|Ilmainen toimitus, kun tilaus on vähintään {amount}|Markkina|Versio"),
    ("cs", "Vítejte v obchodě Tandem|Naše produkty|Produkt|Cena|vč. DPH|Platební metody|Doprava zdarma od {amount}|Trh|Verze"),
    ("sk", "Vitajte v obchode Tandem|Naše produkty|Produkt|Cena|s DPH|Spôsoby platby|Doprava zadarmo od {amount}|Trh|Verzia"),
    ("sl", "Dobrodošli v trgovini Tandem|Naši izdelki|Izdelek|Cena|z DDV|Načini plačila|Brezplačna dostava od {amount}|Trg|Različica"),
    ("hr", "Dobro došli u trgovinu Tandem|Naši proizvodi|Proizvod|Cijena|s PDV-om|Načini plaćanja|Besplatna dostava od {amount}|Tržište|Verzija"),
    ("el", "Καλώς ήρθατε στο κατάστημα Tandem|Τα προϊόντα μας|Προϊόν|Τιμή|με ΦΠΑ|Τρόποι πληρωμής|Δωρεάν αποστολή για παραγγελίες άνω των {amount}|Αγορά|Έκδοση"),
    ("hu", "Üdvözöljük a Tandem webáruházban|Termékeink|Termék|Ár|áfával|Fizetési módok|Ingyenes szállítás {amount} feletti rendelés esetén|Piac|Verzió"),
    ("ro", "Bun venit în magazinul Tandem|Produsele noastre|Produs|Preț|cu TVA|Metode de plată|Livrare gratuită pentru comenzi de peste {amount}|Piață|Versiune"),
    ("bg", "Добре дошли в магазина Tandem|Нашите продукти|Продукт|Цена|с ДДС|Методи на плащане|Безплатна доставка за поръчки над {amount}|Пазар|Версия"),
    ("et", "Tere tulemast Tandemi poodi|Meie tooted|Toode|Hind|koos KM-ga|Makseviisid|Tasuta tarne alates {amount}|Turg|Versioon"),
    ("lv", "Laipni lūdzam Tandem veikalā|Mūsu produkti|Produkts|Cena|ar PVN|Maksājuma veidi|Bezmaksas piegāde no {amount}|Tirgus|Versija"),
    ("lt", "Sveiki atvykę į Tandem parduotuvę|Mūsų produktai|Produktas|Kaina|su PVM|Mokėjimo būdai|Nemokamas pristatymas nuo {amount}|Rinka|Versija"),
];

/// Labels for a locale such as `fr-FR`; unknown languages fall back to English.
pub fn labels(locale: &str) -> Labels {
    let (lang, _) = split_locale(locale);
    let lang = match lang.as_str() {
        "no" | "nn" => "nb",
        other => other,
    };
    let (code, text) = TABLE.iter().find(|(code, _)| *code == lang).unwrap_or(&TABLE[0]);
    let mut f = text.split('|');
    let mut next = || f.next().unwrap_or("");
    Labels {
        lang: code,
        greeting: next(),
        products: next(),
        product: next(),
        price: next(),
        incl_vat: next(),
        payment_methods: next(),
        free_shipping: next(),
        market: next(),
        release: next(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_well_formed() {
        for (code, text) in TABLE {
            assert_eq!(text.split('|').count(), 9, "{code}");
            assert!(text.split('|').all(|s| !s.is_empty()), "{code}");
            assert!(labels(code).free_shipping.contains("{amount}"), "{code}");
        }
    }

    #[test]
    fn picks_language_by_prefix() {
        assert_eq!(labels("fr-FR").greeting, "Bienvenue dans la boutique Tandem");
        assert_eq!(labels("fr-BE").lang, "fr");
        assert_eq!(labels("de_AT").incl_vat, "inkl. MwSt.");
        assert_eq!(labels("no-NO").lang, "nb");
        assert_eq!(labels("pt-PT").price, "Preço");
    }

    #[test]
    fn falls_back_to_english() {
        assert_eq!(labels("ga-IE").lang, "en");
        assert_eq!(labels("").lang, "en");
        assert_eq!(labels("xx").greeting, "Welcome to the Tandem Shop");
    }
}
