"""End-to-end tests: the IdP and two relying parties as real processes, driven by headless Chromium."""
