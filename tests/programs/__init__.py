"""Whole-program cases (*.kpt) and the support code that parses and runs them."""
