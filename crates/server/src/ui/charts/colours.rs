//! The stylesheet's colours (assets/tandem.css) as the charts draw them.

use plotters::style::RGBColor;

/// The stylesheet's colours (assets/tandem.css), so charts sit well in their panels.
pub(super) const TEXT: RGBColor = RGBColor(0x1b, 0x22, 0x30);
pub(super) const MUTED: RGBColor = RGBColor(0x5e, 0x68, 0x78);
pub(super) const LINE: RGBColor = RGBColor(0xe2, 0xe5, 0xea);
pub(super) const LINK: RGBColor = RGBColor(0x1f, 0x5f, 0xbf);
pub(super) const OK: RGBColor = RGBColor(0x15, 0x75, 0x38);
pub(super) const BUSY: RGBColor = RGBColor(0xa1, 0x5c, 0x07);
pub(super) const BAD: RGBColor = RGBColor(0xc0, 0x26, 0x2d);
pub(super) const IDLE: RGBColor = RGBColor(0x5b, 0x64, 0x73);
pub(super) const IDLE_BG: RGBColor = RGBColor(0xec, 0xee, 0xf2);
pub(super) const PURPLE: RGBColor = RGBColor(0x6f, 0x42, 0xc1);
pub(super) const TEAL: RGBColor = RGBColor(0x0e, 0x7c, 0x86);

/// Colours of successive series or stages.
pub(super) const PALETTE: [RGBColor; 6] = [LINK, OK, BUSY, PURPLE, TEAL, BAD];
/// Series beyond the palette: drawn behind the coloured ones, one legend key for them all.
pub(super) const OTHERS: RGBColor = RGBColor(0xb8, 0xbe, 0xc8);
