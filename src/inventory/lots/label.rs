//! The printable lot label: product name, lot code, best-before date and a QR code of the
//! lot's public trace URL, as one SVG (the QR symbol is encoded by the `qrcode` crate and
//! drawn here as one square per dark module, so it prints sharp at any size).

use qrcode::{Color, EcLevel, QrCode};

use crate::http::error::ApiError;

/// Text safe inside SVG/HTML text and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
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

/// The dark modules of `data`'s QR symbol (medium error correction) and its width.
fn modules(data: &str) -> Result<(usize, Vec<(usize, usize)>), ApiError> {
    let code = QrCode::with_error_correction_level(data.as_bytes(), EcLevel::M)
        .map_err(|e| ApiError::internal(format!("QR code of {data:?}: {e}")))?;
    let width = code.width();
    let dark = code
        .to_colors()
        .into_iter()
        .enumerate()
        .filter(|(_, c)| *c == Color::Dark)
        .map(|(i, _)| (i % width, i / width))
        .collect();
    Ok((width, dark))
}

/// What the label says.
pub struct Label<'a> {
    pub product_name: &'a str,
    pub sku_name: &'a str,
    pub code: &'a str,
    pub best_before: &'a str,
    pub trace_url: &'a str,
}

const MODULE: usize = 6;
const QUIET: usize = 4;

pub fn svg(l: &Label<'_>) -> Result<String, ApiError> {
    let (width, dark) = modules(l.trace_url)?;
    let qr_side = (width + 2 * QUIET) * MODULE;
    let text_width = 360;
    let total_width = text_width + qr_side;
    let height = qr_side.max(240);
    let mut squares = String::with_capacity(dark.len() * 48);
    for (x, y) in dark {
        squares.push_str(&format!(
            "<rect x=\"{}\" y=\"{}\" width=\"{MODULE}\" height=\"{MODULE}\"/>",
            (x + QUIET) * MODULE,
            (y + QUIET) * MODULE
        ));
    }
    let lines = [
        (40, 26, "bold", escape(l.product_name)),
        (72, 20, "normal", escape(l.sku_name)),
        (120, 22, "normal", format!("批次 {}", escape(l.code))),
        (
            156,
            22,
            "bold",
            format!("保质期至 {}", escape(l.best_before)),
        ),
        (200, 18, "normal", "扫码查看溯源信息 · 汕鹤优选".to_owned()),
    ];
    let mut text = String::new();
    for (y, size, weight, content) in lines {
        text.push_str(&format!(
            "<text x=\"16\" y=\"{y}\" font-size=\"{size}\" font-weight=\"{weight}\">{content}</text>"
        ));
    }
    Ok(format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{total_width}\" height=\"{height}\" \
         viewBox=\"0 0 {total_width} {height}\" font-family=\"sans-serif\">\
         <title>{title}</title>\
         <rect width=\"{total_width}\" height=\"{height}\" fill=\"#fff\"/>\
         <g fill=\"#000\">{text}</g>\
         <g id=\"qr\" data-url=\"{url}\" data-modules=\"{width}\" data-module-size=\"{MODULE}\" \
         transform=\"translate({text_width} 0)\" fill=\"#000\">\
         <rect width=\"{qr_side}\" height=\"{qr_side}\" fill=\"#fff\"/>{squares}</g></svg>\n",
        title = escape(&format!("{} 批次 {}", l.product_name, l.code)),
        url = escape(l.trace_url),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_escapes_its_text() {
        let svg = svg(&Label {
            product_name: "<script>冻梨",
            sku_name: "5 kg",
            code: "L&1",
            best_before: "2026-12-31",
            trace_url: "http://localhost:8080/t/abc",
        })
        .unwrap();
        assert!(svg.contains("&lt;script&gt;冻梨"));
        assert!(svg.contains("批次 L&amp;1"));
        assert!(!svg.contains("<script>"));
    }
}
