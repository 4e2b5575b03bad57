"""Import and export: items, opening stock per bin and the ledger as CSV files a spreadsheet opens."""
