"""Tests that drive Debian's Chromium through Playwright against a live server: what a person sees and does."""
