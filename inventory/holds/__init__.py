"""Holds: what is free to reserve and the rules that keep holds within it, below stock and requests.

- availability.py: free quantities (consumables now, returnables in a window), booking windows,
  what is held today;
- locks.py: `lock_items`, the item locks every reservation takes (items by id);
- backorders.py: `fill_backorders` (newly free stock to waiting lines) and `shrink_overbooked`
  (the newest holds wait again when stock shrinks).

They import only models (catalog, stock, requests, bins), `requests.lifecycle` (the statuses)
and the shared bottom (`forecast.changes`, `timeutil`), so stock, requests, purchasing, events
and transfer all call them without an import cycle. Import from the modules by name
(`from ..holds.locks import lock_items`), so the import-layer test sees the edge.
"""
