"""Budgets: teams (cost centres) with a budget per period, what requests are worth at today's
unit cost, and each team's spend against its budget. docs/design.md "Budgets"."""
