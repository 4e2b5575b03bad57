"""Labels: QR codes for bins and items, and printable label sheets.

A label's QR code encodes the permanent label URL, `{BASE_URL}/b/<bin code>` or
`{BASE_URL}/i/<sku>` (docs/design.md, "Stable contracts"), so any phone camera opens it.
"""
