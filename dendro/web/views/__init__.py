"""The console's pages: one small blueprint per page."""
